/**
 * Just enough of a Kubernetes API client for the e2e: JSON requests over HTTPS with the admin client
 * certificate, discovery (kind → resource path), server-side apply (real or dry-run) and polling waits.
 */
import { Agent, request } from 'node:https';
import { readFileSync } from 'node:fs';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
    [k: string]: unknown;
  };
  [key: string]: unknown;
}

class KubeError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly body: string,
  ) {
    let msg = body;
    try {
      msg = (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      // not JSON
    }
    super(`${method} ${path}: ${status} ${msg}`);
  }
}

interface ResourceInfo {
  name: string;
  namespaced: boolean;
}

const FIELD_MANAGER = 'plinth-e2e';

export class Kube {
  private readonly agent: Agent;
  private readonly discovery = new Map<string, Map<string, ResourceInfo>>();

  constructor(
    readonly server: string,
    tls: { ca: string; cert: string; key: string },
  ) {
    this.agent = new Agent({ ca: readFileSync(tls.ca), cert: readFileSync(tls.cert), key: readFileSync(tls.key), keepAlive: true });
  }

  close(): void {
    this.agent.destroy();
  }

  /** One request; resolves with the parsed JSON body, rejects with KubeError on a non-2xx answer. */
  request<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const url = new URL(path, this.server);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            accept: 'application/json',
            ...(payload !== undefined ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {}),
          },
          timeout: 30_000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status < 200 || status >= 300) return reject(new KubeError(status, method, path, text));
            if (!String(res.headers['content-type']).includes('json')) return resolve(text as T);
            try {
              resolve((text ? JSON.parse(text) : undefined) as T);
            } catch (e) {
              reject(e instanceof Error ? e : new Error(String(e)));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  get = <T = KubeObject>(path: string): Promise<T> => this.request<T>('GET', path);

  /** GET that answers undefined for 404. */
  async find<T = KubeObject>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (e) {
      if (e instanceof KubeError && e.status === 404) return undefined;
      throw e;
    }
  }

  create = <T = KubeObject>(obj: KubeObject): Promise<T> => this.pathOf(obj, false).then((p) => this.request<T>('POST', p, obj));

  /** JSON merge patch of an object's path. */
  merge = <T = KubeObject>(path: string, patch: unknown): Promise<T> => this.request<T>('PATCH', path, patch, 'application/merge-patch+json');

  async delete(path: string): Promise<void> {
    try {
      await this.request('DELETE', path);
    } catch (e) {
      if (!(e instanceof KubeError && e.status === 404)) throw e;
    }
  }

  /** Server-side apply with strict field validation; `dryRun` asks the server to validate and admit, not persist. */
  async apply<T = KubeObject>(obj: KubeObject, opts: { dryRun?: boolean } = {}): Promise<T> {
    const q = new URLSearchParams({ fieldManager: FIELD_MANAGER, force: 'true', fieldValidation: 'Strict' });
    if (opts.dryRun) q.set('dryRun', 'All');
    return this.request<T>('PATCH', `${await this.pathOf(obj, true)}?${q.toString()}`, obj, 'application/apply-patch+yaml');
  }

  /** The object's REST path (`named`: including its name), from the server's discovery. */
  async pathOf(obj: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>, named: boolean): Promise<string> {
    const info = await this.resourceOf(obj.apiVersion, obj.kind);
    const base = obj.apiVersion.includes('/') ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
    const ns = info.namespaced ? `/namespaces/${obj.metadata.namespace ?? 'default'}` : '';
    return `${base}${ns}/${info.name}${named ? `/${obj.metadata.name}` : ''}`;
  }

  /** Whether the server serves `kind` in `apiVersion` (e.g. a CRD's kind before the CRD is installed). */
  async serves(apiVersion: string, kind: string): Promise<boolean> {
    try {
      await this.resourceOf(apiVersion, kind, true);
      return true;
    } catch {
      return false;
    }
  }

  private async resourceOf(apiVersion: string, kind: string, fresh = false): Promise<ResourceInfo> {
    let kinds = fresh ? undefined : this.discovery.get(apiVersion);
    if (!kinds?.has(kind)) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      const list = await this.get<{ resources: { name: string; kind: string; namespaced: boolean }[] }>(path).catch((e: unknown) => {
        throw new Error(`the API server does not serve ${apiVersion} (${(e as Error).message})`, { cause: e });
      });
      kinds = new Map(list.resources.filter((r) => !r.name.includes('/')).map((r) => [r.kind, { name: r.name, namespaced: r.namespaced }]));
      this.discovery.set(apiVersion, kinds);
    }
    const info = kinds.get(kind);
    if (!info) throw new Error(`the API server serves no kind ${kind} in ${apiVersion}`);
    return info;
  }
}

/** An error `waitFor` does not retry: a process died, the run was interrupted. */
export class Fatal extends Error {}

/**
 * Polls `check` until it returns a value other than undefined; the error names what was awaited and the last state
 * seen. Errors `check` throws are retried until the timeout, except a Fatal, which ends the wait at once.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  opts: { timeoutMs?: number; intervalMs?: number; describe?: () => Promise<string> } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const end = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      if (e instanceof Fatal) throw e;
      lastErr = e;
    }
    if (Date.now() > end) {
      const state = opts.describe ? await opts.describe().catch((e: unknown) => `(could not describe: ${(e as Error).message})`) : '';
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}${lastErr ? `; last error: ${(lastErr as Error).message}` : ''}${state ? `\n${state}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}
