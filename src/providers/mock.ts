// The `mock` provider: fully offline, no key, no HTTP. Tasks are pending for `taskMs`, then ready
// with a `mock://` URL whose query carries everything needed to render the image, so a task can be
// polled and downloaded again from another process. Prompts with `[moderated]` / `[nsfw]` are
// moderated, like on the simulator.
import { createHash } from 'node:crypto';
import { defaultFormat, outputSize } from '../sim/models.js';
import { renderPlaceholder, type PlaceholderFormat } from '../sim/image.js';
import type { Job, Provider, ProviderContext, SubmitResult, TaskRef, TaskState } from '../types.js';

export interface MockProviderOptions {
  /** Simulated task duration, ms (default 50; 0 = ready at the first poll). */
  taskMs?: number;
}

interface MockTask {
  createdAt: number;
  url: string;
  seed: number;
  moderated?: string;
}

const FORMATS: Record<string, PlaceholderFormat> = { jpeg: 'jpeg', jpg: 'jpeg', png: 'png', webp: 'webp' };
const REQUEST_MODERATION = /\[moderated?\]|moderate-request/i;
const CONTENT_MODERATION = /\[nsfw\]/i;

export function createMockProvider(opts: MockProviderOptions = {}): Provider {
  const taskMs = opts.taskMs ?? 50;
  const tasks = new Map<string, MockTask>();
  return {
    name: 'mock',
    family: 'mock',
    expectedTaskMs: taskMs,
    async submit(job: Job, ctx: ProviderContext): Promise<SubmitResult> {
      ctx.signal?.throwIfAborted();
      const req = job.request;
      const seed = Number.isInteger(req.seed) ? (req.seed as number) : seedFromKey(job.key || job.id);
      const id = `mock-${sha256(`${job.key || job.id}:${seed}`).slice(0, 24)}`;
      const [width, height] = outputSize(job.model, req);
      const format = FORMATS[String(req.output_format ?? '')] ?? defaultFormat(job.model);
      const prompt = typeof req.prompt === 'string' ? req.prompt : '';
      const query = new URLSearchParams({ model: job.model, seed: String(seed), w: String(width), h: String(height), format, prompt: prompt.slice(0, 200) });
      const moderated = REQUEST_MODERATION.test(prompt) ? 'Request Moderated' : CONTENT_MODERATION.test(prompt) ? 'Content Moderated' : undefined;
      const url = `mock://${id}?${query}`;
      tasks.set(id, { createdAt: Date.now(), url, seed, ...(moderated ? { moderated } : {}) });
      // The polling URL carries the whole task, so another process can resume it.
      return { provider: 'mock', id, pollingUrl: url, cost: 0 };
    },
    async poll(task: TaskRef, ctx: ProviderContext): Promise<TaskState> {
      ctx.signal?.throwIfAborted();
      const t = tasks.get(task.id) ?? fromPollingUrl(task);
      if (!t) {
        return { state: 'failed', status: 'Task not found', kind: 'not-found', reason: `mock task ${task.id} is unknown to this process` };
      }
      if (t.moderated === 'Request Moderated') return { state: 'failed', status: t.moderated, kind: 'moderated', reason: 'prompt moderated (mock)' };
      const elapsed = Date.now() - t.createdAt;
      if (elapsed < taskMs) return { state: 'pending', status: 'Pending', progress: Math.round((elapsed / taskMs) * 100) / 100 };
      if (t.moderated) return { state: 'failed', status: t.moderated, kind: 'moderated', reason: 'output moderated (mock)' };
      return { state: 'ready', status: 'Ready', urls: [t.url], seed: t.seed };
    },
    async download(url: string, ctx: ProviderContext): Promise<Buffer> {
      ctx.signal?.throwIfAborted();
      return renderMockUrl(url);
    },
  };
}

/** Render the image a `mock://<id>?…` URL stands for. */
export function renderMockUrl(url: string): Promise<Buffer> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'mock:') throw new Error(`not a mock URL: ${url}`);
  const q = parsed.searchParams;
  const num = (name: string, fallback: number) => {
    const n = Number(q.get(name));
    return Number.isInteger(n) && n > 0 ? n : fallback;
  };
  return renderPlaceholder({
    model: q.get('model') ?? 'mock',
    prompt: q.get('prompt') ?? '',
    seed: num('seed', 0),
    width: num('w', 512),
    height: num('h', 512),
    format: FORMATS[q.get('format') ?? ''] ?? 'png',
    label: 'MOCK',
  }, { cache: false }); // each image is downloaded once: caching it would only hold memory
}

/** A task submitted by another process: long finished, described by its polling URL. */
function fromPollingUrl(task: TaskRef): MockTask | undefined {
  if (!task.pollingUrl?.startsWith(`mock://${task.id}?`)) return undefined;
  const q = new URL(task.pollingUrl).searchParams;
  const prompt = q.get('prompt') ?? '';
  const moderated = REQUEST_MODERATION.test(prompt) ? 'Request Moderated' : CONTENT_MODERATION.test(prompt) ? 'Content Moderated' : undefined;
  return { createdAt: 0, url: task.pollingUrl, seed: Number(q.get('seed')) || 0, ...(moderated ? { moderated } : {}) };
}

function seedFromKey(key: string): number {
  return parseInt(sha256(`seed:${key}`).slice(0, 8), 16) % 2 ** 31;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
