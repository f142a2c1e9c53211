// CometAPI's BFL-native route (PROTOCOLS 2.1): `POST /flux/v1/{model}` and
// `GET /flux/v1/get_result?id=` with `Authorization: Bearer`. The `polling_url` CometAPI echoes
// points at BFL's cluster host, which does not accept the CometAPI key: it is never kept or followed.
import { DEFAULT_API_TIMEOUTS, downloadResult, httpRequest} from '../http/index.js';
import type { Job, Provider, ProviderContext, SubmitResult, TaskRef, TaskState } from '../types.js';
import { bflTaskState, numberField, signalOf, submitId, trimSlash, type ApiProviderOptions } from './bfl.js';
import { encodeImageInputs } from './inputs.js';
import { registerSecret } from './redact.js';

/** `baseUrl` defaults to `https://api.cometapi.com`. */
export type CometApiProviderOptions = ApiProviderOptions;

export const COMETAPI_BASE_URL = 'https://api.cometapi.com';

export function createCometApiProvider(opts: CometApiProviderOptions): Provider {
  const baseUrl = trimSlash(opts.baseUrl ?? COMETAPI_BASE_URL);
  const timeouts = opts.timeouts ?? DEFAULT_API_TIMEOUTS;
  registerSecret(opts.apiKey);
  const auth = { authorization: `Bearer ${opts.apiKey}` };
  return {
    name: 'cometapi',
    family: 'bfl',
    async submit(job: Job, ctx: ProviderContext): Promise<SubmitResult> {
      const url = `${baseUrl}/flux/v1/${encodeURIComponent(job.model)}`;
      const body = await encodeImageInputs(job, 'base64');
      const res = await httpRequest(url, { method: 'POST', headers: auth, body, timeouts, ...signalOf(ctx) });
      const json = res.json();
      const id = submitId(json, 'POST', url);
      const cost = numberField(json, 'cost');
      return { provider: 'cometapi', id, pollingUrl: undefined, ...(cost !== undefined ? { cost } : {}) };
    },
    async poll(task: TaskRef, ctx: ProviderContext): Promise<TaskState> {
      // Always CometAPI's own get_result, whatever pollingUrl a lock record may carry.
      const url = `${baseUrl}/flux/v1/get_result?id=${encodeURIComponent(task.id)}`;
      const res = await httpRequest(url, { headers: auth, timeouts, acceptErrorStatus: true, ...signalOf(ctx) });
      return bflTaskState(res, url);
    },
    download(url: string, ctx: ProviderContext): Promise<Buffer> {
      return downloadResult(url, { ...opts.download, ...signalOf(ctx) });
    },
  };
}
