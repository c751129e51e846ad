/** Applying, replacing or deleting a policy, and what it makes stale. */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { invalidatePaths } from '../../api/useApi';
import { faultPaths, sendPolicy } from './api';

export interface PolicyChange {
  method: 'POST' | 'PUT' | 'DELETE';
  path: string;
  yaml?: string;
}

export function useSendPolicy() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (c: PolicyChange) => sendPolicy(c.method, c.path, c.yaml),
    // Policies, their status, the executors' versions and the shaded SLO intervals move with any change;
    // the caller reports the change at once and the tables follow.
    onSuccess: () => void invalidatePaths(queryClient, faultPaths.policies, faultPaths.summary, faultPaths.intervals),
  });
}
