import { useMemo } from 'react';
import { useQueryParam } from '../router';
import type { ApiError } from './client';
import { API } from './paths';
import type { ClusterInfo, ClustersResponse } from '../../../src/slo/server/schemas';
import { useApi } from './useApi';

/** The cluster picker refreshes the list this often; an answer this young is shared as it is. */
const CLUSTERS_POLL_MS = 30_000;

export interface ClusterList {
  /** Newest first. */
  clusters: ClusterInfo[];
  /** The list has answered at least once. */
  answered: boolean;
  loading: boolean;
  error: ApiError | undefined;
}

/**
 * The known clusters, newest first (tolerates a bare array). One cache entry for the header's
 * picker (`poll`) and the page that needs a cluster: mounted at once or a moment apart, they make
 * one request.
 */
export function useClusterList({ poll = false, enabled = true }: { poll?: boolean; enabled?: boolean } = {}): ClusterList {
  const { data, error, loading } = useApi<ClustersResponse | ClusterInfo[]>(enabled ? API.clusters : null, undefined, {
    pollMs: poll ? CLUSTERS_POLL_MS : undefined,
    freshMs: CLUSTERS_POLL_MS,
  });
  return useMemo(() => {
    const list = Array.isArray(data) ? data : (data?.clusters ?? []);
    return { clusters: [...list].sort((a, b) => (b.last_seen ?? 0) - (a.last_seen ?? 0)), answered: !!data, loading, error };
  }, [data, error, loading]);
}

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
  const { clusters, answered, error, loading } = useClusterList({ enabled: !param });
  return useMemo(() => {
    if (param) return { clusterId: param, none: false, loading: false, error: undefined };
    return { clusterId: clusters[0]?.cluster_id ?? null, none: answered && clusters.length === 0, loading, error };
  }, [param, clusters, answered, error, loading]);
}
