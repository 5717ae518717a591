// A client of Weft written against the types openapi-typescript generates from the served
// `GET /api/openapi.json` (schema.d.ts): it must type-check with `tsc --strict`, and then it
// drives one run end to end against a real `weft serve` — save a workflow, start a run, wait
// for its approval, approve, and read the completed run and its history. A response the
// document misdescribes fails the type check (a field renamed or retyped) or one of the
// checks below (a field the server does not send). Every call is JSON, GETs included: the
// server refuses writes of any other type (415).
import type { components, paths } from './schema';

type Schemas = components['schemas'];
/** The JSON body of the `S` response of method `M` on path `P`, as the document declares it. */
type Json<P extends keyof paths, M extends keyof paths[P], S extends number> = paths[P][M] extends {
  responses: infer R;
}
  ? R extends { [K in S]: { content: { 'application/json': infer T } } }
    ? T
    : never
  : never;

declare const process: { argv: string[]; exitCode?: number };
const base = process.argv[2];
if (!base) throw new Error('usage: node client.js http://127.0.0.1:PORT');

async function call<T>(method: string, path: string, expected: number, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json' } };
  if (body !== undefined) init.body = JSON.stringify(body);
  const answer = await fetch(`${base}${path}`, init);
  const text = await answer.text();
  if (answer.status !== expected) {
    throw new Error(`${method} ${path}: ${answer.status}, expected ${expected}: ${text}`);
  }
  return JSON.parse(text) as T;
}

/** Fails unless `value` has every one of `keys`: the document's required fields are real. */
function has(what: string, value: object, keys: string[]): void {
  const missing = keys.filter((k) => !(k in value));
  if (missing.length > 0) throw new Error(`${what} lacks ${missing.join(', ')}: ${JSON.stringify(value)}`);
}

async function until<T>(what: string, read: () => Promise<T>, done: (t: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function main(): Promise<void> {
  const name = `openapi-client-${Date.now()}`;
  const definition = {
    name,
    input_schema: { type: 'object', required: ['order'] },
    nodes: [
      { id: 'start', type: 'start' },
      { id: 'approve', type: 'approval', prompt: 'Ship {{ input.order }}?' },
      { id: 'done', type: 'end', output: { order: '{{ input.order }}' } },
    ],
    edges: [
      { from: 'start', to: 'approve' },
      { from: 'approve', to: 'done', port: 'approved' },
    ],
  };

  const saved = await call<Json<'/api/workflows/{name}', 'put', 201>>('PUT', `/api/workflows/${name}`, 201, definition);
  has('SavedWorkflow', saved, ['name', 'version', 'diagnostics']);
  const savedVersion: number = saved.version;

  const start: Schemas['StartRun'] = { input: { order: 'A1' } };
  // A write that is not JSON is refused with the documented 415 and error body (the type
  // below exists only if the document declares that answer).
  const plain = await fetch(`${base}/api/workflows/${name}/runs`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify(start),
  });
  const refused: Json<'/api/workflows/{name}/runs', 'post', 415> = await plain.json();
  if (plain.status !== 415 || refused.error.code !== 'unsupported_media_type') {
    throw new Error(`a text/plain start: ${plain.status} ${JSON.stringify(refused)}`);
  }
  const run = await call<Json<'/api/workflows/{name}/runs', 'post', 201>>(
    'POST',
    `/api/workflows/${name}/runs`,
    201,
    start,
  );
  has('RunSummary', run, ['id', 'run_id', 'workflow', 'version', 'status', 'input', 'output', 'created_at', 'updated_at']);
  const status: Schemas['RunStatus'] = run.status;
  if (status !== 'running' || run.version !== savedVersion) throw new Error(`started: ${JSON.stringify(run)}`);

  type Detail = Json<'/api/runs/{id}', 'get', 200>;
  const waiting = await until<Detail>(
    'the approval to wait',
    () => call<Detail>('GET', `/api/runs/${run.run_id}`, 200),
    (d) => d.nodes['approve']?.status === 'waiting',
  );
  const approve: Schemas['NodeView'] | undefined = waiting.nodes['approve'];
  if (approve?.prompt !== 'Ship A1?') throw new Error(`prompt: ${JSON.stringify(approve)}`);

  const decision: Schemas['Decision'] = { decision: 'approve', comment: 'from the generated client' };
  const decided = await call<Json<'/api/runs/{id}/approvals/{node}', 'post', 200>>(
    'POST',
    `/api/runs/${run.run_id}/approvals/approve`,
    200,
    decision,
  );
  if (decided.node !== 'approve' || decided.run_id !== run.run_id) throw new Error(`decided: ${JSON.stringify(decided)}`);

  const done = await until<Detail>(
    'the run to complete',
    () => call<Detail>('GET', `/api/runs/${run.run_id}`, 200),
    (d) => d.status !== 'running',
  );
  has('RunDetail', done, ['id', 'status', 'nodes', 'cancelling', 'output']);
  if (done.status !== 'completed' || JSON.stringify(done.output) !== '{"order":"A1"}') {
    throw new Error(`finished: ${JSON.stringify(done)}`);
  }
  const doneNode: Schemas['NodeView'] | undefined = done.nodes['done'];
  if (doneNode?.status !== 'completed' || doneNode.type !== 'end') throw new Error(`done: ${JSON.stringify(doneNode)}`);

  const history = await call<Json<'/api/runs/{id}/events', 'get', 200>>('GET', `/api/runs/${run.run_id}/events`, 200);
  const types: string[] = history.events.map((e: Schemas['RunEvent']) => e.type);
  if (types[0] !== 'run_started' || types[types.length - 1] !== 'run_completed') {
    throw new Error(`history: ${types.join(', ')}`);
  }

  const list = await call<Json<'/api/workflows', 'get', 200>>('GET', '/api/workflows', 200);
  const mine: Schemas['WorkflowSummary'] | undefined = list.workflows.find((w) => w.name === name);
  if (mine?.last_run?.status !== 'completed') throw new Error(`list: ${JSON.stringify(mine)}`);

  console.log(`openapi client: run ${run.run_id} of ${name} completed through the generated types`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
