import { Component, Suspense, lazy, useEffect, useState, type ReactNode } from 'react';
import { useAuth } from './auth';
import { ClusterSelect } from './components/ClusterSelect';
import { SignInDialog } from './components/SignInDialog';
import { Loading } from './components/states';
import { Icon } from './components/ui';
import { decodeParam, Link, Redirect, Route, Switch, useHref, usePath } from './router';
import { useTheme } from './theme';

const DomainsPage = lazy(() => import('./pages/DomainsPage'));
const DomainDetailPage = lazy(() => import('./pages/DomainDetailPage'));
const MeshPage = lazy(() => import('./pages/MeshPage'));
const ServiceDetailPage = lazy(() => import('./pages/ServiceDetailPage'));
const AnomaliesPage = lazy(() => import('./pages/AnomaliesPage'));
const BatchesPage = lazy(() => import('./pages/BatchesPage'));
const FaultsPage = lazy(() => import('./pages/FaultsPage'));
const BatchDetailPage = lazy(() => import('./pages/BatchDetailPage'));
const LogViewer = lazy(() => import('./pages/LogViewer'));

interface NavItem {
  to: string;
  label: string;
  icon: Parameters<typeof Icon>[0]['name'];
  soon?: boolean;
}

const NAV: { section: string; items: NavItem[] }[] = [
  {
    section: 'SLO',
    items: [
      { to: '/slo/domains', label: 'Domains', icon: 'globe' },
      { to: '/slo/mesh', label: 'Mesh', icon: 'mesh' },
    ],
  },
  { section: 'Latency', items: [{ to: '/anomalies', label: 'Anomalies', icon: 'pulse' }] },
  {
    section: 'Operations',
    items: [
      { to: '/faults', label: 'Faults', icon: 'bolt' },
      { to: '/batches', label: 'Batches', icon: 'box' },
    ],
  },
];

/** The home page is the SLO domains page (with the sticky parameters of the address). */
function Home() {
  const href = useHref();
  return <Redirect to={href('/slo/domains')} replace />;
}

/** A page whose route parameters are malformed does not exist. */
function withParams(params: Record<string, string | undefined>, names: string[], page: (p: Record<string, string>) => ReactNode): ReactNode {
  const decoded: Record<string, string> = {};
  for (const n of names) {
    const v = decodeParam(params[n]);
    if (v === null) return <NotFound />;
    decoded[n] = v;
  }
  return page(decoded);
}

function Routes() {
  return (
    <Switch>
      <Route path="/" component={Home} />
      <Route path="/slo" component={Home} />
      <Route path="/index.html" component={Home} />
      <Route path="/slo/domains" component={DomainsPage} />
      <Route path="/slo/domains/:domain">{(p) => withParams(p, ['domain'], (m) => <DomainDetailPage key={m.domain} domain={m.domain} />)}</Route>
      <Route path="/slo/mesh" component={MeshPage} />
      <Route path="/slo/mesh/:namespace/:name">
        {(p) => withParams(p, ['namespace', 'name'], (m) => <ServiceDetailPage key={`${m.namespace}/${m.name}`} namespace={m.namespace} name={m.name} />)}
      </Route>
      <Route path="/anomalies" component={AnomaliesPage} />
      <Route path="/faults" component={FaultsPage} />
      <Route path="/batches" component={BatchesPage} />
      <Route path="/batches/:id">{(p) => withParams(p, ['id'], (m) => <BatchDetailPage key={m.id} id={m.id} />)}</Route>
      <Route path="/batches/:id/files/:fileId">{(p) => withParams(p, ['id', 'fileId'], (m) => <LogViewer key={`${m.id}/${m.fileId}`} id={m.id} fileId={m.fileId} />)}</Route>
      <Route component={NotFound} />
    </Switch>
  );
}

function NotFound() {
  const href = useHref();
  return (
    <div className="page">
      <div className="page-header">
        <div className="page-header-text">
          <h1>Page not found</h1>
          <p className="subtitle">
            Nothing lives at this address. <Link to={href('/slo/domains')}>Go to the SLO domains</Link>.
          </p>
        </div>
      </div>
    </div>
  );
}

class PageBoundary extends Component<{ children: ReactNode; resetKey: string }, { error: Error | null }> {
  state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  componentDidUpdate(prev: { resetKey: string }) {
    if (prev.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }
  render() {
    if (this.state.error) {
      return (
        <div className="page">
          <div className="state state-error" role="alert">
            <div className="state-icon">!</div>
            <div className="state-title">This page failed to render</div>
            <div className="state-text">
              <code>{this.state.error.message}</code>
            </div>
            <div className="state-action">
              <button type="button" className="btn" onClick={() => this.setState({ error: null })}>
                Try again
              </button>
            </div>
          </div>
        </div>
      );
    }
    return this.props.children;
  }
}

function Header({ menuOpen, onMenu }: { menuOpen: boolean; onMenu: () => void }) {
  const { theme, toggle } = useTheme();
  const { who, whoError, openSignIn, signOut } = useAuth();
  const href = useHref();
  return (
    <header className="topbar">
      {/* Phones: the sidebar becomes a drawer behind this button. */}
      <button type="button" className="icon-btn menu-btn" onClick={onMenu} aria-label="Menu" aria-expanded={menuOpen} aria-controls="main-nav" data-testid="menu-button">
        <svg width={18} height={18} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={1.8} strokeLinecap="round" aria-hidden>
          {menuOpen ? <path d="M6 6l12 12M18 6L6 18" /> : <path d="M4 7h16M4 12h16M4 17h16" />}
        </svg>
      </button>
      <Link to={href('/slo/domains')} className="brand" aria-label="Vigil home">
        <img src="/favicon.svg" alt="" width={22} height={22} />
        <span className="brand-name">Vigil</span>
      </Link>
      <ClusterSelect />
      <div className="topbar-spacer" />
      {whoError && (
        <span className="pill pill-critical" title={whoError.message}>
          server unreachable
        </span>
      )}
      <a className="icon-btn" href="/api/docs" target="_blank" rel="noreferrer" title="API reference (OpenAPI)">
        <Icon name="docs" />
      </a>
      <button
        type="button"
        className="icon-btn"
        onClick={toggle}
        aria-label={theme === 'dark' ? 'Switch to light mode' : 'Switch to dark mode'}
        title={theme === 'dark' ? 'Switch to light mode' : 'Switch to dark mode'}
        data-testid="theme-toggle"
      >
        <Icon name={theme === 'dark' ? 'sun' : 'moon'} />
      </button>
      {who?.authenticated ? (
        <div className="user" data-testid="user">
          <span className="user-name" title={who.clusterId ? `bound to cluster ${who.clusterId}` : undefined}>
            {who.name}
          </span>
          <span className={`role role-${who.role}`} data-testid="role">
            {who.role}
          </span>
          <button type="button" className="icon-btn" onClick={signOut} title="Sign out" aria-label="Sign out">
            <Icon name="logout" />
          </button>
        </div>
      ) : (
        <div className="user">
          {who && <span className="muted small user-state">{who.anonymousRead ? 'Anonymous · read-only' : 'Not signed in'}</span>}
          <button type="button" className="btn btn-sm" onClick={() => openSignIn()}>
            <Icon name="key" size={14} /> Sign in
          </button>
        </div>
      )}
    </header>
  );
}

function Sidebar({ open }: { open: boolean }) {
  const path = usePath();
  const href = useHref();
  return (
    <nav id="main-nav" className={`sidebar ${open ? 'open' : ''}`} aria-label="Main">
      {NAV.map((s) => (
        <div key={s.section} className="nav-section">
          <div className="nav-title">{s.section}</div>
          {s.items.map((i) => {
            const active = path === i.to || path.startsWith(`${i.to}/`);
            return (
              <Link key={i.to} to={href(i.to)} className={`nav-item ${active ? 'active' : ''}`} aria-current={active ? 'page' : undefined}>
                <Icon name={i.icon} />
                <span>{i.label}</span>
                {i.soon && <span className="nav-soon">soon</span>}
              </Link>
            );
          })}
        </div>
      ))}
      <div className="sidebar-foot">
        <a href="/api/docs" target="_blank" rel="noreferrer">
          API reference
        </a>
        <a href="/readyz" target="_blank" rel="noreferrer">
          Readiness
        </a>
      </div>
    </nav>
  );
}

export function App() {
  const path = usePath();
  const [menuOpen, setMenuOpen] = useState(false);
  // A chosen page closes the drawer; so does Escape.
  useEffect(() => setMenuOpen(false), [path]);
  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setMenuOpen(false);
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [menuOpen]);
  return (
    <div className="shell">
      <Header menuOpen={menuOpen} onMenu={() => setMenuOpen((o) => !o)} />
      <div className="body">
        <Sidebar open={menuOpen} />
        {menuOpen && <div className="nav-backdrop" onClick={() => setMenuOpen(false)} aria-hidden />}
        <main className="main">
          <PageBoundary resetKey={path}>
            <Suspense fallback={<Loading />}>
              <Routes />
            </Suspense>
          </PageBoundary>
        </main>
      </div>
      <SignInDialog />
    </div>
  );
}
