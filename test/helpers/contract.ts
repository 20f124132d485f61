/**
 * The contract check of every response the integration tests' HTTP helpers receive: the
 * operation is in the OpenAPI document (docs/openapi.json, which is what GET /openapi.json
 * serves), the status is one it declares (5xx may fall to `default`), and the body matches the
 * declared schema (JSON validated with Ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses; another
 * content type by its media type; a status without content has no body). A mismatch throws,
 * so the test that received it fails, and the document cannot drift from what the API sends.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
type Doc = { paths: Record<string, Record<string, Operation>> };

const DOC_FILE = path.resolve(__dirname, '..', '..', 'docs', 'openapi.json');
const doc = JSON.parse(fs.readFileSync(DOC_FILE, 'utf8')) as Doc;
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
ajv.addSchema({ ...doc, $id: 'openapi' });

/** Document paths as regexes, literal ones first (`/me/auto-invest/history` before `/{id}`). */
const templates = Object.keys(doc.paths)
  .map((p) => ({
    path: p,
    params: (p.match(/\{/g) ?? []).length,
    re: new RegExp(`^${p.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
  }))
  .sort((a, b) => a.params - b.params);

const pointer = (...parts: string[]) =>
  parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** What a response broke of the contract, or undefined when it kept it. */
export function contractViolation(
  method: string,
  url: string,
  status: number,
  contentType: string | null,
  body: unknown,
): string | undefined {
  const m = method.toLowerCase();
  if (m === 'head' || m === 'options') return undefined;
  const pathname = new URL(url, 'http://x').pathname;
  const template = templates.find((t) => t.re.test(pathname) && doc.paths[t.path][m]);
  const where = `${method.toUpperCase()} ${pathname} → ${status}`;
  if (!template) {
    // Routes the API does not have answer 404/405 in the error shape.
    if (status === 404 || status === 405) return errorShape(where, body);
    return `${where}: no such operation in the document`;
  }
  const op = doc.paths[template.path][m];
  const key = op.responses[String(status)] ? String(status) : status >= 500 ? 'default' : undefined;
  if (!key) return `${where}: status not declared for ${m.toUpperCase()} ${template.path}`;
  const content = op.responses[key].content;
  if (!content) {
    if (body !== undefined && body !== '') return `${where}: a body where the document has none`;
    return undefined;
  }
  const json = content['application/json'];
  if (json) {
    if (!contentType?.startsWith('application/json'))
      return `${where}: ${contentType ?? 'no content type'} where JSON is declared`;
    const id = `openapi#/${pointer('paths', template.path, m, 'responses', key, 'content', 'application/json', 'schema')}`;
    const validate = ajv.getSchema(id)!;
    if (!validate(body))
      return `${where}: body does not match the schema: ${ajv.errorsText(validate.errors, { separator: '; ' })}`;
    return undefined;
  }
  const declared = Object.keys(content);
  const type = (contentType ?? '').split(';')[0].trim();
  if (!declared.some((d) => d === '*/*' || d === type))
    return `${where}: ${type || 'no content type'} where ${declared.join(' or ')} is declared`;
  return undefined;
}

function errorShape(where: string, body: unknown): string | undefined {
  const validate = ajv.getSchema('openapi#/components/schemas/Error')!;
  return validate(body) ? undefined : `${where}: not the error shape`;
}

/**
 * The apps under test (startApp registers each): every `fetch` of the test process to one of
 * them is checked (test/helpers/setup.ts wraps fetch), except the routes a test added with
 * extra routers (not part of the API) and Bull Board's own pages and API under /admin/queues/.
 */
const watched = new Map<string, RegExp[]>();

export function watchApp(url: string, extraPaths: string[]): void {
  watched.set(
    new URL(url).origin,
    extraPaths.map((p) => new RegExp(`^${p.replace(/:[A-Za-z0-9_]+/g, '[^/]+')}$`)),
  );
}

export function unwatchApp(url: string): void {
  watched.delete(new URL(url).origin);
}

/** Whether a response from this URL is checked by the fetch wrapper. */
export function isWatched(url: string): boolean {
  return watched.has(new URL(url).origin);
}

/** The fetch wrapper's check: responses of watched apps, on the API's own routes. */
export async function checkFetched(method: string, url: string, res: Response): Promise<void> {
  const u = new URL(url);
  const extra = watched.get(u.origin);
  if (!extra || u.pathname.startsWith('/admin/queues/') || extra.some((r) => r.test(u.pathname)))
    return;
  const text = await res.clone().text();
  let body: unknown = text || undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: the text
  }
  checkContract(method, u.pathname, res, body);
}

/** Throws when the response breaks the contract (see the file's comment). */
export function checkContract(
  method: string,
  url: string,
  res: { status: number; headers: Headers },
  body: unknown,
): void {
  const violation = contractViolation(
    method,
    url,
    res.status,
    res.headers.get('content-type'),
    body,
  );
  if (!violation) return;
  const log = process.env.CONTRACT_LOG;
  if (log) fs.appendFileSync(log, `${violation}\n`);
  else throw new Error(`contract: ${violation}`);
}
