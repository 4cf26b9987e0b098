import { crc32 } from 'node:zlib';
import { MillwrightError } from '../errors/index.ts';

/**
 * The parts of a Parquet file that readers skip: the footer's physical types (to tell INT96 from
 * INT64 timestamps) and the page headers' CRC-32s, verified here over each page's stored bytes
 * before anything is decoded. Thrift compact protocol, read field by field; unknown fields skipped.
 */

/** One leaf or group of the Parquet schema. */
export interface SchemaNode {
  name: string;
  /** Physical type (0 BOOLEAN, 1 INT32, 2 INT64, 3 INT96, 4 FLOAT, 5 DOUBLE, 6 BYTE_ARRAY, 7 FIXED_LEN_BYTE_ARRAY); undefined for a group. */
  type?: number;
  children: number;
}

/** One column chunk as its pages describe it. */
export interface ChunkReport {
  /** Dotted column path. */
  path: string;
  /** Row group index, and the file rows it covers: [firstRow, firstRow + rows). */
  rowGroup: number;
  firstRow: number;
  rows: number;
  /** Entries of its dictionary page (0 without one). */
  dictEntries: number;
  /** True when every data page is dictionary-encoded (no fallback to plain). */
  allDictionary: boolean;
}

/** What {@link checkParquetPages} learnt. */
export interface PagesReport {
  rows: number;
  chunks: ChunkReport[];
  /** Top-level schema fields (the root's children). */
  fields: SchemaNode[];
  /** Pages carrying a CRC, all verified. */
  checkedPages: number;
  pages: number;
}

class Compact {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  byte(): number {
    if (this.pos >= this.end) throw new Error('truncated Thrift structure');
    return this.buf[this.pos++];
  }
  varint(): bigint {
    let shift = 0n;
    let v = 0n;
    for (let k = 0; k < 10; k++) {
      const b = this.byte();
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
    throw new Error('varint longer than 10 bytes');
  }
  int(): number {
    const v = this.varint();
    return Number((v >> 1n) ^ -(v & 1n));
  }
  binary(): Buffer {
    const n = Number(this.varint());
    if (n < 0 || this.pos + n > this.end) throw new Error(`binary field of ${n} bytes runs past the end`);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  /** Calls `field(id, type)` for each field of a struct; it returns false to have the value skipped. */
  struct(field: (id: number, type: number) => boolean, depth = 0): void {
    if (depth > 32) throw new Error('Thrift structure nested too deeply');
    let last = 0;
    for (;;) {
      const h = this.byte();
      if (h === 0) return;
      const type = h & 0x0f;
      const delta = h >> 4;
      const id = delta === 0 ? this.int() : last + delta;
      last = id;
      if (!field(id, type)) this.skip(type, depth + 1);
    }
  }
  list(elem: (type: number) => void): void {
    const h = this.byte();
    let n = h >> 4;
    if (n === 15) n = Number(this.varint());
    const type = h & 0x0f;
    if (n > this.end - this.pos) throw new Error(`list of ${n} elements cannot fit in the remaining bytes`);
    for (let k = 0; k < n; k++) elem(type);
  }
  skip(type: number, depth: number): void {
    switch (type) {
      case 1:
      case 2:
        return;
      case 3:
        this.byte();
        return;
      case 4:
      case 5:
      case 6:
        this.varint();
        return;
      case 7:
        this.pos += 8;
        return;
      case 8:
        this.binary();
        return;
      case 9:
      case 10:
        this.list((t) => this.skip(t, depth + 1));
        return;
      case 11: {
        const n = Number(this.varint());
        if (n === 0) return;
        const kv = this.byte();
        for (let k = 0; k < n; k++) {
          this.skip(kv >> 4, depth + 1);
          this.skip(kv & 0x0f, depth + 1);
        }
        return;
      }
      case 12:
        this.struct(() => false, depth);
        return;
      default:
        throw new Error(`unknown Thrift type ${type}`);
    }
  }
}

interface Chunk {
  path: string;
  start: number;
  size: number;
  rowGroup: number;
  firstRow: number;
  rows: number;
}

function readFooter(buf: Buffer): { rows: number; schema: SchemaNode[]; chunks: Chunk[] } {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'PAR1' || buf.toString('latin1', buf.length - 4) !== 'PAR1') {
    throw new Error('not a Parquet file (no PAR1 magic at both ends)');
  }
  const len = buf.readUInt32LE(buf.length - 8);
  const start = buf.length - 8 - len;
  if (len <= 0 || start < 4) throw new Error(`footer length ${len} does not fit in a ${buf.length}-byte file`);
  const r = new Compact(buf, start, buf.length - 8);
  let rows = 0;
  const schema: SchemaNode[] = [];
  const chunks: Chunk[] = [];
  r.struct((id, type) => {
    if (id === 2 && type === 9) {
      r.list(() => {
        const node: SchemaNode = { name: '', children: 0 };
        r.struct((fid, ft) => {
          if (fid === 1 && ft === 5) node.type = r.int();
          else if (fid === 4 && ft === 8) node.name = r.binary().toString('utf8');
          else if (fid === 5 && ft === 5) node.children = r.int();
          else return false;
          return true;
        });
        schema.push(node);
      });
    } else if (id === 3 && type === 6) rows = r.int();
    else if (id === 4 && type === 9) {
      let rowGroup = -1;
      let firstRow = 0;
      r.list(() => {
        rowGroup++;
        const mine: Chunk[] = [];
        let groupRows = 0;
        r.struct((rid, rt) => {
          if (rid === 3 && rt === 6) {
            groupRows = r.int();
            return true;
          }
          if (rid !== 1 || rt !== 9) return false;
          r.list(() =>
            r.struct((cid, ct) => {
              if (cid !== 3 || ct !== 12) return false;
              const c = { path: '', data: -1, dict: -1, size: 0 };
              r.struct((mid, mt) => {
                if (mid === 3 && mt === 9) {
                  const parts: string[] = [];
                  r.list(() => parts.push(r.binary().toString('utf8')));
                  c.path = parts.join('.');
                } else if (mid === 7 && mt === 6) c.size = r.int();
                else if (mid === 9 && mt === 6) c.data = r.int();
                else if (mid === 11 && mt === 6) c.dict = r.int();
                else return false;
                return true;
              });
              // A dictionary offset of 0 is a known writer bug (it means "none"): start at the data page.
              const first = c.dict > 0 && c.dict < c.data ? c.dict : c.data;
              mine.push({ path: c.path, start: first, size: c.size, rowGroup, firstRow: 0, rows: 0 });
              return true;
            }),
          );
          return true;
        });
        for (const c of mine) {
          c.firstRow = firstRow;
          c.rows = groupRows;
          chunks.push(c);
        }
        firstRow += groupRows;
      });
    } else return false;
    return true;
  });
  return { rows, schema, chunks };
}

/** Top-level fields of a flattened schema list (depth-first, children counts). */
function topFields(schema: SchemaNode[]): SchemaNode[] {
  const out: SchemaNode[] = [];
  let i = 1;
  const skipTree = (): void => {
    const n = schema[i++];
    if (!n) throw new Error('schema lists fewer elements than its groups claim');
    for (let k = 0; k < n.children; k++) skipTree();
  };
  const root = schema[0];
  if (!root) throw new Error('empty schema');
  for (let k = 0; k < root.children; k++) {
    const n = schema[i];
    out.push(n);
    skipTree();
  }
  return out;
}

/**
 * Reads the footer and walks every page header of every column chunk, verifying the CRC-32 of
 * each page that carries one (over the page's stored, possibly compressed bytes, as the format
 * specifies). Throws BAD_INPUT naming the file, column and page on a mismatch or a malformed
 * header. Pages are not decompressed: the decoder does that and checks everything else.
 */
export function checkParquetPages(buf: Buffer, source: string): PagesReport {
  let footer: ReturnType<typeof readFooter>;
  try {
    footer = readFooter(buf);
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `${source}: unreadable Parquet footer: ${(err as Error).message}`);
  }
  let fields: SchemaNode[];
  try {
    fields = topFields(footer.schema);
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `${source}: malformed Parquet schema: ${(err as Error).message}`);
  }
  let pages = 0;
  let checkedPages = 0;
  const chunks: ChunkReport[] = [];
  for (const chunk of footer.chunks) {
    const report: ChunkReport = { path: chunk.path, rowGroup: chunk.rowGroup, firstRow: chunk.firstRow, rows: chunk.rows, dictEntries: 0, allDictionary: true };
    chunks.push(report);
    const end = chunk.start + chunk.size;
    if (chunk.start < 4 || chunk.size < 0 || end > buf.length) {
      throw new MillwrightError('BAD_INPUT', `${source}: column ${JSON.stringify(chunk.path)}: its pages (bytes ${chunk.start}-${end}) lie outside the ${buf.length}-byte file`);
    }
    let pos = chunk.start;
    let page = 0;
    while (pos < end) {
      const r = new Compact(buf, pos, end);
      let size = -1;
      let crc: number | undefined;
      try {
        r.struct((id, type) => {
          if (id === 3 && type === 5) size = r.int();
          else if (id === 4 && type === 5) crc = r.int();
          else if (id === 7 && type === 12) {
            r.struct((f, t) => (f === 1 && t === 5 ? ((report.dictEntries = r.int()), true) : false));
          } else if ((id === 5 || id === 8) && type === 12) {
            // DataPageHeader.encoding is field 2, DataPageHeaderV2.encoding field 4.
            const encField = id === 5 ? 2 : 4;
            r.struct((f, t) => {
              if (f !== encField || t !== 5) return false;
              const enc = r.int();
              if (enc !== 2 && enc !== 8) report.allDictionary = false; // PLAIN_DICTIONARY, RLE_DICTIONARY
              return true;
            });
          } else return false;
          return true;
        });
      } catch (err) {
        throw new MillwrightError('BAD_INPUT', `${source}: column ${JSON.stringify(chunk.path)} page ${page + 1}: malformed page header (${(err as Error).message})`);
      }
      if (size < 0 || r.pos + size > end) {
        throw new MillwrightError('BAD_INPUT', `${source}: column ${JSON.stringify(chunk.path)} page ${page + 1}: page size ${size} runs past the column chunk`);
      }
      if (crc !== undefined) {
        const actual = crc32(buf.subarray(r.pos, r.pos + size)) | 0;
        if (actual !== crc) {
          throw new MillwrightError(
            'BAD_INPUT',
            `${source}: column ${JSON.stringify(chunk.path)} page ${page + 1}: checksum mismatch (page header says CRC-32 ${(crc >>> 0).toString(16)}, the page's bytes give ${(actual >>> 0).toString(16)}): the file is corrupt`,
          );
        }
        checkedPages++;
      }
      pages++;
      page++;
      pos = r.pos + size;
    }
  }
  return { rows: footer.rows, fields, chunks, checkedPages, pages };
}
