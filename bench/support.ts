/** Helpers shared by the benches: percentiles, figures, and connections to throwaway databases. */
import { Client, type ClientConfig } from 'pg';

export function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}

export function ms(value: number): string {
  return `${value.toFixed(3)} ms`;
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export function withCredentials(url: string, user: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(user);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/**
 * Runs work on a new connection to url, closed afterwards.
 *
 * @param config further connection settings, e.g. `options` for the server
 */
export async function withClient<T>(
  url: string,
  work: (client: Client) => Promise<T>,
  config: Omit<ClientConfig, 'connectionString'> = {},
): Promise<T> {
  const client = new Client({ ...config, connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
