// Deletes the SQLite database the web server used (see playwright.config.ts).
import fs from 'node:fs';

export default function globalTeardown(): void {
  const database = process.env.WEFT_E2E_DB;
  if (!database) return;
  for (const suffix of ['', '-wal', '-shm']) {
    fs.rmSync(database + suffix, { force: true });
  }
}
