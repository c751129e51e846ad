import { useMemo } from 'react';
import { useQueryParam } from '../router';
import type { ApiError } from './client';
import { API, type ClusterInfo, type ClustersResponse } from './types';
import { useApi } from './useApi';

export interface ClusterChoice {
  /** The cluster to read; null until known (then a page must not fire its request yet). */
  clusterId: string | null;
  /** No agent has shipped anything yet: show how to connect one instead of a request that cannot answer. */
  none: boolean;
  loading: boolean;
  error: ApiError | undefined;
}

/**
 * The cluster an SLO page reads: ?cluster_id= when set, else the most recently seen cluster (what
 * the cluster picker then puts into the URL, so the page's request key does not change and its
 * first request is fired once, with cluster_id).
 */
export function useCluster(): ClusterChoice {
  const [param] = useQueryParam('cluster_id', '');
  const { data, error, loading } = useApi<ClustersResponse | ClusterInfo[]>(param ? null : API.clusters);
  return useMemo(() => {
    if (param) return { clusterId: param, none: false, loading: false, error: undefined };
    const list = Array.isArray(data) ? data : (data?.clusters ?? []);
    const newest = [...list].sort((a, b) => (b.last_seen ?? 0) - (a.last_seen ?? 0))[0];
    return { clusterId: newest?.cluster_id ?? null, none: !!data && list.length === 0, loading, error };
  }, [param, data, error, loading]);
}
