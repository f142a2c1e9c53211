// Reading the manifest text: refuse binary, parse YAML keeping positions, map key paths to lines.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { InputIssue } from '../types.js';

export type Seg = string | number;
type Pos = { line?: number; col?: number };
type IssueNoFile = Omit<InputIssue, 'file'>;

/** Decodes file bytes as UTF-8, or explains why they are not a text manifest. */
export function decodeManifest(bytes: Uint8Array): { text?: string; issue?: IssueNoFile } {
  const nul = bytes.indexOf(0);
  if (nul >= 0) return { issue: binaryIssue(lineOfByte(bytes, nul), 'it contains NUL bytes') };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    const loose = new TextDecoder('utf-8').decode(bytes);
    return { issue: binaryIssue(lineOfChar(loose, loose.indexOf('\uFFFD')), 'it is not valid UTF-8') };
  }
}

/** The same check for text already decoded (NUL, replacement characters, control characters). */
export function checkText(text: string): IssueNoFile | undefined {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) return binaryIssue(lineOfChar(text, nul), 'it contains NUL bytes');
  const bad = text.search(/[\uFFFD\u0001-\u0008\u000E-\u001F\u007F]/);
  if (bad >= 0) return binaryIssue(lineOfChar(text, bad), 'it contains bytes that are not UTF-8 text');
  return undefined;
}

function binaryIssue(line: number | undefined, why: string): IssueNoFile {
  return {
    code: 'not-text',
    path: '',
    ...(line !== undefined ? { line, col: 1 } : {}),
    message: `the manifest is not a text file: ${why}`,
    hint: 'give the path of a YAML manifest saved as UTF-8',
    severity: 'error',
  };
}

const lineOfChar = (text: string, index: number) => text.slice(0, index).split('\n').length;
function lineOfByte(bytes: Uint8Array, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (bytes[i] === 10) line++;
  return line;
}

export interface ParsedSource {
  doc: Document;
  locator: Locator;
  issues: IssueNoFile[];
}

export function parseYaml(text: string): ParsedSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const issues: IssueNoFile[] = [];
  for (const [list, severity] of [
    [doc.errors, 'error'],
    [doc.warnings, 'warning'],
  ] as const) {
    for (const e of list) {
      const pos = lineCounter.linePos(e.pos[0]);
      const duplicate = e.code === 'DUPLICATE_KEY';
      issues.push({
        code: duplicate ? 'duplicate-key' : 'yaml-syntax',
        path: '',
        line: pos.line,
        col: pos.col,
        message: `${duplicate ? 'duplicate key' : 'YAML syntax error'}: ${(e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
        hint: duplicate ? 'each key may appear once per mapping; merge the two entries' : 'check indentation, quotes and `:` near this line',
        severity,
      });
    }
  }
  return { doc, locator: new Locator(doc, lineCounter), issues };
}

/** Finds the line and column of a key path in the parsed document (the deepest part that exists). */
export class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  at(path: readonly Seg[], atKey = false): Pos {
    let node: unknown = this.doc.contents;
    let found: Node | undefined = isNode(node) ? node : undefined;
    for (let i = 0; i < path.length; i++) {
      if (isAlias(node)) node = node.resolve(this.doc);
      const seg = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
        if (!pair) break;
        if (last && atKey && isNode(pair.key)) return this.pos(pair.key);
        node = pair.value ?? pair.key;
        if (isNode(node) && node.range) found = node;
        else if (isNode(pair.key)) found = pair.key;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        if (!isNode(node)) break;
        found = node;
      } else break;
    }
    return found ? this.pos(found) : { line: 1, col: 1 };
  }

  private pos(node: Node): Pos {
    if (!node.range) return {};
    const p = this.lines.linePos(node.range[0]);
    return { line: p.line, col: p.col };
  }
}

function isNode(x: unknown): x is Node {
  return typeof x === 'object' && x !== null && 'range' in x;
}
