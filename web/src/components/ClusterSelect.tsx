import { useEffect } from 'react';
import { useClusterList } from '../api/useCluster';
import { fmtAgo } from '../format';
import { useQueryParam } from '../router';
import { Icon } from './ui';

/** The cluster in the URL (?cluster_id=); defaults to the most recently seen cluster. */
export function ClusterSelect() {
  const [clusterId, setClusterId] = useQueryParam('cluster_id', '');
  const { clusters, error, loading } = useClusterList({ poll: true });

  useEffect(() => {
    if (!clusterId && clusters.length > 0) setClusterId(clusters[0].cluster_id);
  }, [clusterId, clusters, setClusterId]);

  const known = clusters.some((c) => c.cluster_id === clusterId);
  const title = error
    ? `Cluster list unavailable: ${error.message}`
    : clusters.length === 0 && !loading
      ? 'No cluster has shipped data yet'
      : 'Cluster (cluster_id)';

  return (
    <label className="cluster-select" title={title}>
      <Icon name="cluster" size={14} />
      <select
        aria-label="Cluster"
        value={clusterId}
        disabled={loading || (!!error && !clusterId) || (clusters.length === 0 && !clusterId)}
        onChange={(e) => setClusterId(e.target.value || null)}
      >
        {!clusterId && <option value="">{loading ? 'Loading clusters…' : error ? 'Clusters unavailable' : 'No clusters yet'}</option>}
        {clusterId && !known && <option value={clusterId}>{clusterId}</option>}
        {clusters.map((c) => (
          <option key={c.cluster_id} value={c.cluster_id}>
            {c.cluster_id} · {fmtAgo(c.last_seen)}
          </option>
        ))}
      </select>
    </label>
  );
}
