import { basename, dirname, join, normalize } from 'node:path';

/** A Node.js-style errno error (what node:fs throws). */
export function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path });
}

/**
 * The directories, files and symlinks of FakeOs, with realpath-like
 * resolution. Device nodes live in FakeOs; `isNode` tells the tree where.
 */
export class FakeTree {
  readonly dirs = new Set(['/', '/dev', '/dev/disk', '/dev/disk/by-id']);
  /** Regular files and their sizes. */
  readonly files = new Map<string, number>();
  readonly symlinks = new Map<string, string>();

  constructor(private readonly isNode: (path: string) => boolean) {}

  addDir(path: string): void {
    for (let p = path; !this.dirs.has(p); p = dirname(p)) this.dirs.add(p);
  }

  addFile(path: string, size = 0): void {
    this.addDir(dirname(path));
    this.files.set(path, size);
  }

  exists(p: string): boolean {
    return this.dirs.has(p) || this.files.has(p) || this.symlinks.has(p) || this.isNode(p);
  }

  isDir(p: string): boolean {
    return this.dirs.has(p);
  }

  /** Whether anything lives under directory `p`. */
  hasChildren(p: string): boolean {
    const inside = (q: string): boolean => q.startsWith(`${p}/`);
    return [...this.dirs, ...this.files.keys(), ...this.symlinks.keys()].some(inside);
  }

  /** Resolves every symlink on the way (like realpath); throws ENOENT/ENOTDIR/ELOOP. */
  resolve(path: string, syscall: string): string {
    const parts = normalize(path).split('/').filter(Boolean);
    let cur = '/';
    let hops = 0;
    while (parts.length > 0) {
      const part = parts.shift()!;
      const next = part === '..' ? dirname(cur) : join(cur, part);
      const link = this.symlinks.get(next);
      if (link !== undefined) {
        if (++hops > 40) throw errno('ELOOP', syscall, path);
        parts.unshift(
          ...normalize(link.startsWith('/') ? link : join(cur, link))
            .split('/')
            .filter(Boolean),
        );
        cur = '/';
        continue;
      }
      if (!this.exists(next)) throw errno('ENOENT', syscall, path);
      if (parts.length > 0 && !this.isDir(next)) throw errno('ENOTDIR', syscall, path);
      cur = next;
    }
    return cur;
  }

  /** The path with its parent resolved (and the last component too unless `followLast` is false); undefined when absent. */
  existing(path: string, followLast = true): string | undefined {
    try {
      if (followLast) return this.resolve(path, 'stat');
      const p = join(this.resolve(dirname(path), 'lstat'), basename(path));
      return this.exists(p) ? p : undefined;
    } catch {
      return undefined;
    }
  }

  /** mkdir -p, following symlinks on the way. */
  mkdirp(path: string): void {
    const parts = normalize(path).split('/').filter(Boolean);
    let cur = '/';
    for (const [i, part] of parts.entries()) {
      cur = join(cur, part);
      if (this.symlinks.has(cur)) cur = this.resolve(cur, 'mkdir');
      if (!this.exists(cur)) this.dirs.add(cur);
      else if (!this.isDir(cur)) throw errno(i === parts.length - 1 ? 'EEXIST' : 'ENOTDIR', 'mkdir', path);
    }
  }
}
