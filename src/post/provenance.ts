// Provenance: what made each image (prompt, model, seed, request key, hash of the original), in a
// sidecar JSON beside the job's outputs and, with `provenance: embed`, inside the image as XMP.
// Embedding edits the encoded bytes at the container level (a PNG iTXt chunk, a JPEG APP1 segment,
// a WebP `XMP ` chunk): the pixels and the encoder's choices (palette, quality) stay exactly as the
// post stage made them, where a re-encode with sharp's `withXmp` would compress lossy formats twice.
// sharp reads it back (`metadata().xmp`); so do exiftool and image editors.
import { deflateSync, inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { canonicalJson } from '../manifest/keys.js';
import type { Job } from '../types.js';

export type ProvenanceMode = 'sidecar' | 'embed';

export interface ProvenanceRecord {
  generator: 'flux-batch';
  job: string;
  id: string;
  path: string;
  model: string;
  prompt: string;
  seed?: number;
  /** Request fields other than prompt and seed (webhook fields left out, data URIs shortened). */
  params: Record<string, unknown>;
  /** The cell's matrix variables. */
  vars: Record<string, string | number | boolean>;
  /** Job key: sha256 of the canonical request (DESIGN decision 1). */
  key: string;
  /** sha256 of the original image as downloaded. */
  source: string;
}

export interface ProvenanceSidecar extends ProvenanceRecord {
  /** The job's output files (names relative to the sidecar's folder) and their sha256. */
  outputs: { file: string; sha256: string }[];
}

const HIDDEN_PARAMS = /^webhook_/;

export function provenanceRecord(job: Job, facts: { seed?: number; source: string }): ProvenanceRecord {
  const params: Record<string, unknown> = {};
  for (const k of Object.keys(job.request).sort()) {
    if (k === 'prompt' || k === 'seed' || HIDDEN_PARAMS.test(k)) continue;
    const v = job.request[k];
    params[k] = typeof v === 'string' && v.startsWith('data:') ? `${v.slice(0, v.indexOf(',') + 1)}…(${v.length} chars)` : v;
  }
  const seed = facts.seed ?? (typeof job.request.seed === 'number' ? job.request.seed : undefined);
  const record: ProvenanceRecord = {
    generator: 'flux-batch',
    job: job.name,
    id: job.id,
    path: job.path,
    model: job.model,
    prompt: typeof job.request.prompt === 'string' ? job.request.prompt : '',
    params,
    vars: JSON.parse(canonicalJson(job.vars)) as ProvenanceRecord['vars'],
    key: job.key,
    source: facts.source,
  };
  if (seed !== undefined) record.seed = seed;
  return orderRecord(record);
}

/** Fixed key order, so the same facts always give the same bytes. */
function orderRecord(r: ProvenanceRecord): ProvenanceRecord {
  const { generator, job, id, path, model, prompt, seed, params, vars, key, source } = r;
  return { generator, job, id, path, model, prompt, ...(seed !== undefined ? { seed } : {}), params, vars, key, source };
}

// ---- XMP ----------------------------------------------------------------------------------------

export const XMP_NAMESPACE = 'https://github.com/flux-batch/flux-batch/ns/1.0/';

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const xmlUnescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

/** An XMP packet: the prompt as dc:description (what image tools show), the whole record as JSON. */
export function toXmp(record: ProvenanceRecord): string {
  const simple = [
    `<fluxbatch:model>${xmlEscape(record.model)}</fluxbatch:model>`,
    record.seed !== undefined ? `<fluxbatch:seed>${record.seed}</fluxbatch:seed>` : '',
    `<fluxbatch:key>${record.key}</fluxbatch:key>`,
    `<fluxbatch:source>${record.source}</fluxbatch:source>`,
  ].filter(Boolean);
  return [
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    `  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:fluxbatch="${XMP_NAMESPACE}">`,
    `   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">${xmlEscape(record.prompt)}</rdf:li></rdf:Alt></dc:description>`,
    `   <dc:creator><rdf:Seq><rdf:li>flux-batch</rdf:li></rdf:Seq></dc:creator>`,
    ...simple.map((s) => `   ${s}`),
    `   <fluxbatch:record>${xmlEscape(JSON.stringify(record))}</fluxbatch:record>`,
    '  </rdf:Description>',
    ' </rdf:RDF>',
    '</x:xmpmeta>',
    '<?xpacket end="r"?>',
  ].join('\n');
}

/** The record inside an XMP packet written by `toXmp`; undefined when there is none. */
export function parseXmp(xmp: string | Buffer | undefined): ProvenanceRecord | undefined {
  if (!xmp) return undefined;
  const m = /<fluxbatch:record>([\s\S]*?)<\/fluxbatch:record>/.exec(xmp.toString('utf8'));
  if (!m?.[1]) return undefined;
  try {
    return JSON.parse(xmlUnescape(m[1])) as ProvenanceRecord;
  } catch {
    return undefined;
  }
}

/** Reads the provenance embedded in an image (through sharp, as any consumer would). */
export async function readEmbeddedProvenance(image: Buffer): Promise<ProvenanceRecord | undefined> {
  const meta = await sharp(image, { limitInputPixels: false }).metadata();
  return parseXmp(meta.xmp);
}

// ---- Embedding ----------------------------------------------------------------------------------

/** Formats whose container takes the XMP without re-encoding. Others keep only the sidecar. */
export const EMBED_FORMATS = new Set(['png', 'jpg', 'jpeg', 'webp']);

/** `data` with the record embedded as XMP (PNG also gets an iTXt `flux-batch` JSON chunk). */
export function embedProvenance(data: Buffer, ext: string, record: ProvenanceRecord): Buffer {
  const xmp = Buffer.from(toXmp(record), 'utf8');
  switch (ext) {
    case 'png':
      return insertPngChunks(data, [itxt('XML:com.adobe.xmp', xmp), itxt('flux-batch', Buffer.from(JSON.stringify(record), 'utf8'))]);
    case 'jpg':
    case 'jpeg':
      return insertJpegXmp(data, xmp);
    case 'webp':
      return insertWebpXmp(data, xmp);
    default:
      return data;
  }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface PngChunk {
  type: string;
  data: Buffer;
}

function itxt(keyword: string, text: Buffer): PngChunk {
  // keyword \0, compression flag 0, method 0, empty language tag \0, empty translated keyword \0, text
  return { type: 'iTXt', data: Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), text]) };
}

/** A tEXt-style chunk (compressed when long) carrying a short Latin-1 value. */
export function ztxt(keyword: string, text: string): PngChunk {
  return { type: 'zTXt', data: Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0]), deflateSync(Buffer.from(text, 'latin1'))]) };
}

function encodeChunk(c: PngChunk): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(c.data.length, 0);
  head.write(c.type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), c.data])), 0);
  return Buffer.concat([head, c.data, crc]);
}

/** Walks a PNG's chunks: type, data, and where each starts. */
export function pngChunks(png: Buffer): { type: string; data: Buffer; start: number }[] {
  if (!png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG');
  const out: { type: string; data: Buffer; start: number }[] = [];
  for (let i = 8; i + 8 <= png.length; ) {
    const len = png.readUInt32BE(i);
    const type = png.toString('latin1', i + 4, i + 8);
    out.push({ type, data: png.subarray(i + 8, i + 8 + len), start: i });
    i += 12 + len;
  }
  return out;
}

/** Inserts chunks before the first IDAT, replacing earlier text chunks with the same keyword. */
export function insertPngChunks(png: Buffer, chunks: PngChunk[]): Buffer {
  const keywords = new Set(chunks.map((c) => c.data.subarray(0, c.data.indexOf(0)).toString('latin1')));
  const parts: Buffer[] = [PNG_SIGNATURE];
  let inserted = false;
  for (const c of pngChunks(png)) {
    const isText = c.type === 'tEXt' || c.type === 'zTXt' || c.type === 'iTXt';
    if (isText && keywords.has(c.data.subarray(0, c.data.indexOf(0)).toString('latin1'))) continue;
    if (c.type === 'IDAT' && !inserted) {
      parts.push(...chunks.map(encodeChunk));
      inserted = true;
    }
    parts.push(png.subarray(c.start, c.start + 12 + c.data.length));
  }
  return Buffer.concat(parts);
}

/** The text of a PNG text chunk with this keyword (tEXt, zTXt or uncompressed iTXt). */
export function readPngText(png: Buffer, keyword: string): string | undefined {
  for (const c of pngChunks(png)) {
    const nul = c.data.indexOf(0);
    if (nul < 0 || c.data.toString('latin1', 0, nul) !== keyword) continue;
    if (c.type === 'tEXt') return c.data.toString('latin1', nul + 1);
    if (c.type === 'zTXt') return inflateSync(c.data.subarray(nul + 2)).toString('latin1');
    if (c.type === 'iTXt' && c.data[nul + 1] === 0) {
      let p = nul + 3;
      p = c.data.indexOf(0, p) + 1; // language tag
      p = c.data.indexOf(0, p) + 1; // translated keyword
      return c.data.toString('utf8', p);
    }
  }
  return undefined;
}

const XMP_JPEG_HEADER = Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1');

function insertJpegXmp(jpeg: Buffer, xmp: Buffer): Buffer {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG');
  const length = 2 + XMP_JPEG_HEADER.length + xmp.length;
  if (length > 0xffff) return jpeg; // one APP1 segment holds 64 KB; the sidecar has it all
  // After SOI and a JFIF APP0 (which must come first); drop an XMP APP1 written earlier.
  let at = 2;
  const parts: Buffer[] = [jpeg.subarray(0, 2)];
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff && (jpeg[at + 1] === 0xe0 || jpeg[at + 1] === 0xe1)) {
    const len = jpeg.readUInt16BE(at + 2);
    const isXmp = jpeg[at + 1] === 0xe1 && jpeg.subarray(at + 4, at + 4 + XMP_JPEG_HEADER.length).equals(XMP_JPEG_HEADER);
    if (jpeg[at + 1] === 0xe0) parts.push(jpeg.subarray(at, at + 2 + len));
    else if (!isXmp) break;
    at += 2 + len;
  }
  const head = Buffer.alloc(4);
  head.writeUInt16BE(0xffe1, 0);
  head.writeUInt16BE(length, 2);
  parts.push(head, XMP_JPEG_HEADER, xmp, jpeg.subarray(at));
  return Buffer.concat(parts);
}

function insertWebpXmp(webp: Buffer, xmp: Buffer): Buffer {
  if (webp.toString('latin1', 0, 4) !== 'RIFF' || webp.toString('latin1', 8, 12) !== 'WEBP') throw new Error('not a WebP');
  const chunks: { fourcc: string; data: Buffer }[] = [];
  for (let i = 12; i + 8 <= webp.length; ) {
    const size = webp.readUInt32LE(i + 4);
    chunks.push({ fourcc: webp.toString('latin1', i, i + 4), data: webp.subarray(i + 8, i + 8 + size) });
    i += 8 + size + (size & 1);
  }
  const kept = chunks.filter((c) => c.fourcc !== 'XMP ');
  let vp8x = kept.find((c) => c.fourcc === 'VP8X');
  if (!vp8x) {
    const { width, height, alpha } = webpSize(kept);
    const data = Buffer.alloc(10);
    data[0] = alpha ? 0x10 : 0;
    data.writeUIntLE(width - 1, 4, 3);
    data.writeUIntLE(height - 1, 7, 3);
    vp8x = { fourcc: 'VP8X', data };
    kept.unshift(vp8x);
  } else {
    vp8x.data = Buffer.from(vp8x.data);
  }
  vp8x.data[0] = (vp8x.data[0] ?? 0) | 0x04; // XMP flag
  kept.push({ fourcc: 'XMP ', data: xmp });
  const body = kept.map((c) => {
    const head = Buffer.alloc(8);
    head.write(c.fourcc, 0, 'latin1');
    head.writeUInt32LE(c.data.length, 4);
    return Buffer.concat([head, c.data, c.data.length & 1 ? Buffer.from([0]) : Buffer.alloc(0)]);
  });
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(4 + body.reduce((n, b) => n + b.length, 0), 4);
  riff.write('WEBP', 8, 'latin1');
  return Buffer.concat([riff, ...body]);
}

/** Canvas size of a simple (VP8 / VP8L) WebP, from its bitstream header. */
function webpSize(chunks: { fourcc: string; data: Buffer }[]): { width: number; height: number; alpha: boolean } {
  const vp8l = chunks.find((c) => c.fourcc === 'VP8L');
  if (vp8l) {
    const bits = vp8l.data.readUInt32LE(1);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, alpha: ((bits >>> 28) & 1) === 1 };
  }
  const vp8 = chunks.find((c) => c.fourcc === 'VP8 ');
  if (!vp8) throw new Error('WebP without an image chunk');
  return { width: vp8.data.readUInt16LE(6) & 0x3fff, height: vp8.data.readUInt16LE(8) & 0x3fff, alpha: false };
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * The seed an image was made with, at write time: the request's, else the one the journal pinned
 * for the job (the API's pick, journalled before the image is post-processed). The scheduler hands
 * writeOutputs its options, journal included; read it structurally so finish.ts needs no new field.
 */
export function pinnedSeed(job: Job, ctx: object): number | undefined {
  if (typeof job.request.seed === 'number') return job.request.seed;
  const journal = (ctx as { journal?: { get?: (id: string) => { seed?: number } | undefined } }).journal;
  return typeof journal?.get === 'function' ? journal.get(job.id)?.seed : undefined;
}
