import type { CompiledQuery, DatabaseConnection, Dialect, Driver, QueryResult, TransactionSettings } from 'kysely';
import { asUnavailable } from '../unavailable.js';

/**
 * A dialect whose driver reports a lost or refused database connection as BackendUnavailableError
 * (the HTTP layer answers 503 + Retry-After), whatever query or transaction step met it.
 */
export function withUnavailableErrors(dialect: Dialect, backend: string): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: () => new UnavailableMappingDriver(dialect.createDriver(), backend),
  };
}

class MappedConnection implements DatabaseConnection {
  constructor(
    readonly inner: DatabaseConnection,
    private readonly backend: string,
  ) {}
  async executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.inner.executeQuery<R>(q);
    } catch (err) {
      throw asUnavailable(this.backend, err);
    }
  }
  streamQuery<R>(q: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(q, chunkSize);
  }
}

class UnavailableMappingDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly backend: string,
  ) {}

  private async guard<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      throw asUnavailable(this.backend, err);
    }
  }

  private unwrap(c: DatabaseConnection): DatabaseConnection {
    return c instanceof MappedConnection ? c.inner : c;
  }

  init() {
    return this.guard(this.inner.init());
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    return new MappedConnection(await this.guard(this.inner.acquireConnection()), this.backend);
  }
  beginTransaction(c: DatabaseConnection, s: TransactionSettings) {
    return this.guard(this.inner.beginTransaction(this.unwrap(c), s));
  }
  commitTransaction(c: DatabaseConnection) {
    return this.guard(this.inner.commitTransaction(this.unwrap(c)));
  }
  rollbackTransaction(c: DatabaseConnection) {
    return this.guard(this.inner.rollbackTransaction(this.unwrap(c)));
  }
  savepoint(c: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]) {
    return this.guard(this.inner.savepoint!(this.unwrap(c), name, compile));
  }
  rollbackToSavepoint(c: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]) {
    return this.guard(this.inner.rollbackToSavepoint!(this.unwrap(c), name, compile));
  }
  releaseSavepoint(c: DatabaseConnection, name: string, compile: Parameters<NonNullable<Driver['savepoint']>>[2]) {
    return this.guard(this.inner.releaseSavepoint!(this.unwrap(c), name, compile));
  }
  releaseConnection(c: DatabaseConnection) {
    return this.inner.releaseConnection(this.unwrap(c));
  }
  destroy() {
    return this.inner.destroy();
  }
}
