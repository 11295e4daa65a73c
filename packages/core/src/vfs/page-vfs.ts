import { PAGE_SIZE } from '../page/page.js';
import type { PageFile } from './page-file.js';
import type { Sqlite3 } from './sqlite-module.js';

export const VFS_NAME = 'quire-pages';

type P = number;
type Methods = Record<string, (...args: P[]) => number>;
type StructFields = Record<`$${string}`, unknown>;

type Handle =
  | { kind: 'pages'; name: string; file: PageFile }
  | { kind: 'memory'; name: string; bytes: Uint8Array; size: number };

/**
 * A synchronous SQLite VFS over in-memory page files.
 *
 * The main database of each replica is a registered {@link PageFile}. Any other
 * file SQLite asks for (journals, temp files) lives in memory. A page that the
 * page file does not have is recorded as a fault and the read fails with
 * SQLITE_IOERR_READ: never SHORT_READ, which SQLite would take as zeros.
 */
export class PageVfs {
  private readonly files = new Map<string, PageFile>();
  private readonly memoryFiles = new Map<string, { bytes: Uint8Array; size: number }>();
  private readonly handles = new Map<number, Handle>();
  private readonly faults = new Map<string, Set<number>>();

  constructor(private readonly sqlite3: Sqlite3) {
    this.install();
  }

  register(name: string, file: PageFile): void {
    this.files.set(name, file);
  }

  unregister(name: string): void {
    this.files.delete(name);
    this.faults.delete(name);
  }

  /** Pages that reads of `name` missed since the last call. */
  takeFaults(name: string): number[] {
    const set = this.faults.get(name);
    if (!set || set.size === 0) return [];
    this.faults.delete(name);
    return [...set].sort((a, b) => a - b);
  }

  private install(): void {
    const { capi, wasm } = this.sqlite3;
    // Struct members are `$`-prefixed at runtime; the shipped typings omit them.
    const io = new capi.sqlite3_io_methods();
    (io as unknown as StructFields).$iVersion = 1;
    const vfs = new capi.sqlite3_vfs();
    const fields = vfs as unknown as StructFields;
    const defaultVfs = new capi.sqlite3_vfs(capi.sqlite3_vfs_find(null));
    const defaults = defaultVfs as unknown as StructFields;
    fields.$iVersion = 2;
    fields.$szOsFile = (capi.sqlite3_file as unknown as { structInfo: { sizeof: number } }).structInfo.sizeof;
    fields.$mxPathname = 512;
    fields.$xRandomness = defaults.$xRandomness;
    fields.$xCurrentTime = defaults.$xCurrentTime;
    fields.$xCurrentTimeInt64 = defaults.$xCurrentTimeInt64;
    defaultVfs.dispose();
    const heap = () => wasm.heap8u();
    const handle = (pFile: unknown) => this.handles.get(Number(pFile));
    // SQLite asks whether a connection's journal exists at the start of
    // every read transaction, with the same name at the same address each time.
    const accessNames = new CStringCache();
    // Out-parameters are aligned (SQLite's own locals); poke32/poke64 go through a type switch, and poke64 through a BigInt.
    const pokeI32 = (ptr: P, value: number) => {
      if (ptr % 4 === 0) wasm.heap32()[ptr / 4] = value;
      else wasm.poke32(ptr, value);
    };
    const pokeI64 = (ptr: P, value: number) => {
      if (ptr % 4 !== 0) return void wasm.poke64(ptr, BigInt(value));
      const words = wasm.heap32u();
      // Little-endian, as WASM memory is; sizes are below 2^53.
      words[ptr / 4] = value % 0x1_0000_0000;
      words[ptr / 4 + 1] = Math.floor(value / 0x1_0000_0000);
    };

    this.sqlite3.vfs.installVfs({
      io: {
        struct: io,
        // The shipped typings demand literal result codes; ours are plain numbers.
        methods: {
          xClose: (pFile: P) => {
            this.handles.delete(Number(pFile));
            return 0;
          },
          xRead: (pFile: P, pDest: P, n: P, offset: P) => {
            const h = handle(pFile);
            if (!h) return capi.SQLITE_IOERR_READ;
            const dest = heap().subarray(Number(pDest), Number(pDest) + n);
            return this.read(h, dest, Number(offset));
          },
          xWrite: (pFile: P, pSrc: P, n: P, offset: P) => {
            const h = handle(pFile);
            if (!h) return capi.SQLITE_IOERR_WRITE;
            // Copy out of the WASM heap: it can move when memory grows.
            const src = heap().slice(Number(pSrc), Number(pSrc) + n);
            this.write(h, src, Number(offset));
            return 0;
          },
          xTruncate: (pFile: P, size: P) => {
            const h = handle(pFile);
            if (!h) return capi.SQLITE_IOERR_TRUNCATE;
            const bytes = Number(size);
            if (h.kind === 'pages') h.file.truncate(Math.ceil(bytes / PAGE_SIZE));
            else h.size = Math.min(h.size, bytes);
            return 0;
          },
          xSync: () => 0,
          xFileSize: (pFile: P, pSize: P) => {
            const h = handle(pFile);
            if (!h) return capi.SQLITE_IOERR_FSTAT;
            const size = h.kind === 'pages' ? h.file.pageCount() * PAGE_SIZE : h.size;
            pokeI64(pSize, size);
            return 0;
          },
          // One connection per replica: locks are bookkeeping only. SQLite still
          // re-checks the change counter each time it takes a shared lock.
          xLock: () => 0,
          xUnlock: () => 0,
          xCheckReservedLock: (_pFile: P, pOut: P) => {
            pokeI32(pOut, 0);
            return 0;
          },
          xFileControl: () => capi.SQLITE_NOTFOUND,
          xSectorSize: () => PAGE_SIZE,
          xDeviceCharacteristics: () => 0,
        } satisfies Methods as never,
      },
      vfs: {
        struct: vfs,
        name: VFS_NAME,
        methods: {
          xOpen: (_pVfs: P, zName: P, pFile: P, flags: P, pOutFlags: P) => {
            const name = (zName ? wasm.cstrToJs(zName) : null) ?? `temp-${Math.random().toString(36).slice(2)}`;
            const file = this.files.get(name);
            let h: Handle;
            if (file) {
              h = { kind: 'pages', name, file };
            } else {
              let mem = this.memoryFiles.get(name);
              if (!mem) {
                if (!(flags & capi.SQLITE_OPEN_CREATE)) return capi.SQLITE_CANTOPEN;
                mem = { bytes: new Uint8Array(0), size: 0 };
                if (!(flags & capi.SQLITE_OPEN_DELETEONCLOSE)) this.memoryFiles.set(name, mem);
              }
              // The handle shares the stored object, so writes persist across opens.
              h = Object.assign(mem, { kind: 'memory' as const, name });
            }
            this.handles.set(Number(pFile), h);
            const sqliteFile = new capi.sqlite3_file(pFile);
            (sqliteFile as unknown as StructFields).$pMethods = io.pointer;
            sqliteFile.dispose();
            wasm.poke32(pOutFlags, flags);
            return 0;
          },
          xDelete: (_pVfs: P, zName: P) => {
            this.memoryFiles.delete(wasm.cstrToJs(zName) ?? '');
            return 0;
          },
          xAccess: (_pVfs: P, zName: P, _flags: P, pOut: P) => {
            const name = accessNames.name(heap(), Number(zName));
            pokeI32(pOut, this.files.has(name) || this.memoryFiles.has(name) ? 1 : 0);
            return 0;
          },
          xFullPathname: (_pVfs: P, zName: P, nOut: P, pOut: P) =>
            wasm.cstrncpy(pOut, zName, nOut) < nOut ? 0 : capi.SQLITE_CANTOPEN,
          xGetLastError: () => 0,
          // Never block: one thread, so nobody would release what we wait for.
          xSleep: () => 0,
        } satisfies Methods as never,
      },
    });
  }

  private read(h: Handle, dest: Uint8Array, offset: number): number {
    const { capi } = this.sqlite3;
    if (h.kind === 'memory') {
      const available = Math.max(0, Math.min(dest.length, h.size - offset));
      dest.set(h.bytes.subarray(offset, offset + available));
      if (available < dest.length) {
        dest.fill(0, available);
        return capi.SQLITE_IOERR_SHORT_READ;
      }
      return 0;
    }
    const size = h.file.pageCount() * PAGE_SIZE;
    let done = 0;
    while (done < dest.length) {
      const at = offset + done;
      if (at >= size) {
        dest.fill(0, done);
        return capi.SQLITE_IOERR_SHORT_READ;
      }
      const pgno = Math.floor(at / PAGE_SIZE) + 1;
      const page = h.file.read(pgno);
      if (!page) {
        let set = this.faults.get(h.name);
        if (!set) this.faults.set(h.name, (set = new Set()));
        set.add(pgno);
        return capi.SQLITE_IOERR_READ;
      }
      const within = at - (pgno - 1) * PAGE_SIZE;
      const take = Math.min(PAGE_SIZE - within, dest.length - done);
      dest.set(page.subarray(within, within + take), done);
      done += take;
    }
    return 0;
  }

  private write(h: Handle, src: Uint8Array, offset: number): void {
    if (h.kind === 'memory') {
      const end = offset + src.length;
      if (end > h.bytes.length) {
        const grown = new Uint8Array(Math.max(end, h.bytes.length * 2));
        grown.set(h.bytes.subarray(0, h.size));
        h.bytes = grown;
      }
      h.bytes.set(src, offset);
      h.size = Math.max(h.size, end);
      return;
    }
    let done = 0;
    while (done < src.length) {
      const at = offset + done;
      const pgno = Math.floor(at / PAGE_SIZE) + 1;
      const within = at - (pgno - 1) * PAGE_SIZE;
      const take = Math.min(PAGE_SIZE - within, src.length - done);
      if (within === 0 && take === PAGE_SIZE) {
        // `src` is this write's own copy out of the heap: the file may keep it.
        h.file.write(pgno, src.subarray(done, done + PAGE_SIZE));
      } else {
        const page = (h.file.read(pgno) ?? new Uint8Array(PAGE_SIZE)).slice();
        page.set(src.subarray(done, done + take), within);
        h.file.write(pgno, page);
      }
      done += take;
    }
  }
}

/**
 * C strings decoded once per address: the last string read at each address,
 * kept with its bytes, and reused while the bytes there are the same.
 */
class CStringCache {
  private readonly byAddress = new Map<number, { bytes: Uint8Array; text: string }>();
  private readonly decoder = new TextDecoder();

  name(heap: Uint8Array, ptr: number): string {
    if (!ptr) return '';
    const known = this.byAddress.get(ptr);
    if (known && sameCString(heap, ptr, known.bytes)) return known.text;
    let end = ptr;
    while (heap[end] !== 0) end++;
    const bytes = heap.slice(ptr, end);
    const text = this.decoder.decode(bytes);
    // Bounded: SQLite asks about a few names per connection (its journal), always at the same addresses.
    if (this.byAddress.size >= 4096) this.byAddress.clear();
    this.byAddress.set(ptr, { bytes, text });
    return text;
  }
}

function sameCString(heap: Uint8Array, ptr: number, bytes: Uint8Array): boolean {
  if (heap[ptr + bytes.length] !== 0) return false;
  for (let i = 0; i < bytes.length; i++) if (heap[ptr + i] !== bytes[i]) return false;
  return true;
}
