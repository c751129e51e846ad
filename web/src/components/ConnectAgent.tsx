/** What a fresh server without any agent shows on the SLO pages: how to connect one. */
export function ConnectAgent() {
  const server = typeof window === 'undefined' ? 'http://127.0.0.1:8080' : window.location.origin;
  return (
    <div className="state state-empty connect-agent" data-state="no-agent">
      <div className="state-icon" aria-hidden>
        ⇄
      </div>
      <div className="state-title">No agent has shipped data yet</div>
      <div className="state-text">
        <p>Vigil shows SLOs once an agent in your cluster ships its first snapshot. Create an agent token bound to the cluster, then start the agent with it:</p>
        <pre className="code-block">
          <code>
            {`vigil token create --role agent --cluster my-cluster --name agent-my-cluster
# prints vgl_… once: that is <agent token>
VIGIL_AGENT_TOKEN=<agent token> vigil agent --server-url ${server} --cluster-id my-cluster --kubernetes`}
          </code>
        </pre>
        <p>
          Run <code>vigil token create</code> where the server runs (it writes to the server's database). To see a live demo fleet instead, run <code>vigil up</code>.
        </p>
      </div>
    </div>
  );
}
