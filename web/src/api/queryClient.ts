/**
 * The dashboard's one QueryClient: what is retried, and how the cache behaves by default.
 */
import { QueryClient } from '@tanstack/react-query';
import { ApiError } from './client';

/** Attempts after the first failure of a read, spaced by TanStack's exponential backoff (1 s, 2 s, 4 s …). */
const RETRIES = 3;

/**
 * A network failure or a 5xx may pass; a 4xx is the server's considered answer (401 opens the
 * sign-in dialog, 403 and 404 explain themselves) and asking again changes nothing.
 */
export function shouldRetry(failures: number, error: unknown): boolean {
  if (failures >= RETRIES) return false;
  if (!(error instanceof ApiError)) return false;
  return error.status === 0 || error.status >= 500;
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: shouldRetry,
        // Live pages poll on their own interval; a tab coming back to focus does not add a burst of reads.
        refetchOnWindowFocus: false,
      },
      // A change is sent once: the user sees its error and decides.
      mutations: { retry: false },
    },
  });
}
