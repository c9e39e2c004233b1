/**
 * Debian's OpenJDK with Debian's pgjdbc, HikariCP and SLF4J (libpostgresql-jdbc-java, libhikaricp-java,
 * libslf4j-java): compiles a Java test program at test time and runs it, for the tests and benches that check what
 * a Java service sees.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const JAVA_HOME_BIN = process.env.ACCESSWEAVER_JAVA_BIN ?? '/usr/bin';
const SHARE = process.env.ACCESSWEAVER_JAVA_SHARE ?? '/usr/share/java';
/** pgjdbc, HikariCP, the SLF4J API HikariCP logs through, and a binding that discards its output. */
export const JAVA_CLASSPATH = ['postgresql.jar', 'HikariCP.jar', 'slf4j-api.jar', 'slf4j-nop.jar'].map((jar) =>
  path.join(SHARE, jar),
);
const PACKAGES = 'apt-get install default-jdk-headless libpostgresql-jdbc-java libhikaricp-java libslf4j-java';

/** Why Java programs cannot run here (one line), or undefined when they can. */
export function javaUnavailableReason(): string | undefined {
  if (!existsSync(path.join(JAVA_HOME_BIN, 'javac'))) return `no javac in ${JAVA_HOME_BIN}: ${PACKAGES}`;
  const missing = JAVA_CLASSPATH.find((jar) => !existsSync(jar));
  return missing && `no ${missing}: ${PACKAGES}`;
}

export interface JavaPrograms {
  /** Runs `mainClass` with `args`; resolves to its standard output. */
  run(mainClass: string, args: readonly string[], timeoutMs: number): Promise<string>;
  remove(): void;
}

/** Compiles `sources` (.java files) together, in one javac run, into a temporary directory. */
export async function compileJava(sources: readonly string[]): Promise<JavaPrograms> {
  const classes = mkdtempSync(path.join(os.tmpdir(), 'accessweaver-java-'));
  const classpath = JAVA_CLASSPATH.join(path.delimiter);
  try {
    await run(path.join(JAVA_HOME_BIN, 'javac'), ['-d', classes, '-cp', classpath, ...sources]);
  } catch (error) {
    rmSync(classes, { recursive: true, force: true });
    throw error;
  }
  return {
    async run(mainClass, args, timeoutMs) {
      const { stdout } = await run(
        path.join(JAVA_HOME_BIN, 'java'),
        ['-cp', [classes, classpath].join(path.delimiter), mainClass, ...args],
        { timeout: timeoutMs, maxBuffer: 1 << 20 },
      );
      return stdout;
    },
    remove: () => rmSync(classes, { recursive: true, force: true }),
  };
}
