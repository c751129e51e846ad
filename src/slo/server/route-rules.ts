/**
 * The latest ingress routes of each cluster with their Traefik rules, as its agent last shipped them:
 * what GET /api/v2/slo/routes/match evaluates. slo_route_mappings cannot hold them: it keeps one row
 * per (domain, path_prefix), so two routers on one path (say, by method or header) collapse, and a
 * removed router would linger there until retention. This keeps the whole list per cluster, replaced
 * when a newer snapshot brings a different one.
 *
 *   slo_route_rules   cluster_id → ts (of the snapshot), routes (JSON array of RouteInfo)
 */
import type { Kysely } from 'kysely';
import type { ModuleMigration } from '../../platform/backends/sql/migrations.js';
import type { RouteInfo, Snapshot } from '../snapshot.js';
import type { Db } from './tx.js';

interface RouteRulesTable {
  cluster_id: string;
  ts: number;
  routes: string;
}

type RulesDb = Kysely<{ slo_route_rules: RouteRulesTable }>;
const rulesDb = (db: Db): RulesDb => db.withTables<{ slo_route_rules: RouteRulesTable }>() as unknown as RulesDb;

export const routeRulesMigration: ModuleMigration = {
  id: '004_slo_route_rules',
  async up(db) {
    await db.schema
      .createTable('slo_route_rules')
      .addColumn('cluster_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('ts', 'bigint', (c) => c.notNull())
      .addColumn('routes', 'text', (c) => c.notNull())
      .execute();
  },
};

/** More routes than any cluster sensibly has: beyond it the list is cut (and the answer says how many were kept). */
export const MAX_STORED_ROUTES = 20_000;

/** The fields of a shipped route the match needs, in a fixed order (so equal lists give equal JSON). */
function storedRoute(r: RouteInfo): RouteInfo {
  return {
    name: r.name ?? '',
    namespace: r.namespace ?? '',
    domain: r.domain ?? '',
    path_prefix: r.path_prefix || '/',
    service_key: r.service_key,
    service_name: r.service_name ?? '',
    service_port: r.service_port ?? 0,
    tls: r.tls === true,
    ...(r.router !== undefined ? { router: r.router } : {}),
    ...(r.rule !== undefined ? { rule: r.rule } : {}),
    ...(r.syntax !== undefined ? { syntax: r.syntax } : {}),
    ...(r.priority !== undefined ? { priority: r.priority } : {}),
    ...(r.entry_points !== undefined ? { entry_points: r.entry_points } : {}),
  };
}

export interface PendingRouteRules {
  write(db: Db): Promise<void>;
  /** Call once the transaction that ran write() committed. */
  commit(): void;
}

const NOTHING: PendingRouteRules = { write: async () => {}, commit: () => {} };

/**
 * How long this replica trusts that the list it wrote is still stored: retention may have forgotten
 * the cluster meanwhile (forgetRouteRulesOfGoneClusters), so an unchanged list is written again this
 * often (snapshot time) rather than never.
 */
export const REWRITE_UNCHANGED_MS = 10 * 60_000;

/** Writes a cluster's route list only when it differs from the one this replica last wrote (or that was long ago). */
export class RouteRulesWriter {
  private written = new Map<string, { json: string; ts: number }>();

  toWrite(s: Snapshot): PendingRouteRules {
    const json = JSON.stringify(s.routes.slice(0, MAX_STORED_ROUTES).map(storedRoute));
    const last = this.written.get(s.cluster_id);
    if (last && last.json === json && s.timestamp - last.ts < REWRITE_UNCHANGED_MS) return NOTHING;
    return {
      write: async (db) => {
        await rulesDb(db)
          .insertInto('slo_route_rules')
          .values({ cluster_id: s.cluster_id, ts: s.timestamp, routes: json })
          // A snapshot delivered late from an agent's spool must not bring back routes since changed.
          .onConflict((oc) =>
            oc
              .column('cluster_id')
              .doUpdateSet((eb) => ({ ts: eb.ref('excluded.ts'), routes: eb.ref('excluded.routes') }))
              .where((eb) => eb('excluded.ts', '>=', eb.ref('slo_route_rules.ts'))),
          )
          .execute();
      },
      commit: () => {
        if (this.written.size > 1000) this.written.clear();
        this.written.set(s.cluster_id, { json, ts: s.timestamp });
      },
    };
  }
}

/** Retention: the route lists of clusters that have no agent left (every one silent for the hourly retention). Returns how many. */
export async function forgetRouteRulesOfGoneClusters(db: Db): Promise<number> {
  const gone = await rulesDb(db)
    .deleteFrom('slo_route_rules')
    .where('cluster_id', 'not in', db.selectFrom('slo_agents').select('cluster_id'))
    .executeTakeFirst();
  return Number(gone.numDeletedRows);
}

/** The cluster's latest routes, or null when its agent never shipped any. */
export async function latestRouteRules(db: Db, cluster: string): Promise<{ ts: number; routes: RouteInfo[] } | null> {
  const row = await rulesDb(db).selectFrom('slo_route_rules').select(['ts', 'routes']).where('cluster_id', '=', cluster).executeTakeFirst();
  if (!row) return null;
  return { ts: Number(row.ts), routes: JSON.parse(row.routes) as RouteInfo[] };
}
