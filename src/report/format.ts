// Text for people: input issues, plan tables, run summaries. Pure functions returning strings.
import path from 'node:path';
import type { PlanSummary } from '../plan/index.js';
import type { RunSummary } from '../run/events.js';
import type { InputIssue } from '../types.js';

export function formatIssue(i: InputIssue, cwd = process.cwd()): string {
  const where = [relative(i.file, cwd), i.line, i.line !== undefined ? i.col : undefined].filter((x) => x !== undefined).join(':');
  const key = i.path ? ` ${i.path}:` : '';
  // Messages often say what they got already; say it once.
  const got = i.received !== undefined && !i.message.includes(`got ${i.received}`) ? ` (got ${i.received})` : '';
  const fix = i.hint ? `\n    fix: ${i.hint}` : '';
  return `${where}: ${i.severity} [${i.code}]${key} ${i.message}${got}${fix}`;
}

export function formatIssues(issues: InputIssue[], cwd?: string): string {
  const errors = issues.filter((i) => i.severity === 'error').length;
  const lines = issues.map((i) => formatIssue(i, cwd));
  const tail = errors > 0 ? `\n${errors} error${errors === 1 ? '' : 's'}; nothing was sent or written.` : '';
  return lines.join('\n') + tail;
}

export function formatPlan(plan: PlanSummary, extra: { file: string; provider: string; jobs?: Array<{ id: string; model: string; action: string; reason: string }> }): string {
  const out: string[] = [];
  const a = plan.byAction;
  out.push(`${relative(extra.file)}: ${plan.total} job${plan.total === 1 ? '' : 's'} on provider ${extra.provider}`);
  out.push(`  submit ${a.submit}  resume ${a.resume}  rebuild ${a.rebuild}  skip ${a.skip}  failed ${a.failed}`);
  out.push('  by model:');
  for (const [model, c] of Object.entries(plan.byModel).sort()) {
    out.push(`    ${model.padEnd(22)} submit ${c.submit}  resume ${c.resume}  rebuild ${c.rebuild}  skip ${c.skip}  failed ${c.failed}`);
  }
  const unpriced = plan.unpriced > 0 ? ` (+${plan.unpriced} job${plan.unpriced === 1 ? '' : 's'} with no known price)` : '';
  out.push(`  estimated cost of new generations: $${plan.estimatedUsd.toFixed(2)}${unpriced}`);
  if (extra.jobs) {
    out.push('  jobs:');
    for (const j of extra.jobs) out.push(`    ${j.action.padEnd(8)} ${j.id}  [${j.model}] ${j.reason}`);
  }
  out.push('No request was made.');
  return out.join('\n');
}

export function formatSummary(s: RunSummary): string {
  const parts = [`${s.generated} generated`, `${s.rebuilt} rebuilt`, `${s.skipped} up to date`];
  if (s.failed) parts.push(`${s.failed} failed`);
  if (s.interrupted) parts.push(`${s.interrupted} interrupted`);
  const lines = [`${s.total} job${s.total === 1 ? '' : 's'}: ${parts.join(', ')} in ${(s.wallMs / 1000).toFixed(1)} s`];
  if (s.failed) {
    const reasons = Object.entries(s.failures).sort((x, y) => y[1] - x[1]).map(([r, n]) => `${r} ${n}`);
    lines.push(`  failures: ${reasons.join(', ')}`);
  }
  const money = s.cost > 0 ? `, cost reported by the API ${round(s.cost)} credits` : '';
  lines.push(`  paid generations ${s.paid}${money}; polls ${s.polls}, downloads ${s.downloads}`);
  if (s.regenerations) lines.push(`  ${s.regenerations} regenerated because their result expired (same seed)`);
  if (s.ambiguousRetries) lines.push(`  ${s.ambiguousRetries} submit${s.ambiguousRetries === 1 ? '' : 's'} retried after an ambiguous failure: each may have been charged twice (retry.ambiguousRetry)`);
  if (s.outOfCredits) lines.push('  the account ran out of credits (402): top up, then rerun to finish the rest');
  if (s.interrupted) lines.push('  interrupted: rerun the same command to resume; submitted tasks are polled again, not paid again');
  return lines.join('\n');
}

function round(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

export function relative(file: string, cwd = process.cwd()): string {
  const r = path.relative(cwd, file);
  return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : file;
}
