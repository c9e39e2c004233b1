import type { Terminal } from './context';
import { CliError, ExitCode } from './exit-codes';

/**
 * Gate for destructive operations: `--yes`, or an operator at a terminal who types the identifier
 * back (a y/N would be answered by reflex at 3 a.m.). Anything else is a refusal, exit code 3.
 */
export async function confirmDestructive(options: {
  readonly yes: boolean;
  readonly terminal: Terminal;
  readonly identifier: string;
  /** What the identifier names, in the prompt. @default 'instance identifier' */
  readonly label?: string;
  readonly action: string;
}): Promise<void> {
  if (options.yes) return;
  if (!options.terminal.interactive) {
    throw new CliError(
      `Refusing to ${options.action} without confirmation: re-run with --yes (or from a terminal to confirm ` +
        `interactively).`,
      ExitCode.Refused,
    );
  }
  const answer = await options.terminal.ask(
    `Type the ${options.label ?? 'instance identifier'} '${options.identifier}' to ${options.action}: `,
  );
  if (answer.trim() !== options.identifier) {
    throw new CliError(`Not confirmed (expected '${options.identifier}'); nothing was changed.`, ExitCode.Refused);
  }
}
