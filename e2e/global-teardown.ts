// Deletes the SQLite databases the web servers used (see playwright.config.ts).
import fs from 'node:fs';

export default function globalTeardown(): void {
  const database = process.env.WEFT_E2E_DB;
  if (!database) return;
  for (const db of [database, `${database}.token.db`]) {
    for (const suffix of ['', '-wal', '-shm']) {
      fs.rmSync(db + suffix, { force: true });
    }
  }
}
