import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/**
 * Open a SQLite file readable by its owner only (tokens' hashes, traces and state live in it):
 * the file is created 0600 before SQLite opens it, because SQLite gives the -wal and -shm files
 * the mode of the database file. Files left 0644 by an older version are tightened.
 *
 * WAL with synchronous=NORMAL: a committed transaction survives the process being killed (it is
 * in the WAL, written before COMMIT returns); on power loss the last transactions before the
 * next checkpoint may be lost, but the file stays consistent. See docs/operations.md.
 */
export function openPrivateSqlite(file: string): Database.Database {
  if (file !== ':memory:' && file !== '') {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    closeSync(openSync(file, 'a', 0o600));
    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
      if (existsSync(f)) chmodSync(f, 0o600);
    }
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  return db;
}
