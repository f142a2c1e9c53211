// HTTP layer: fetch with timeouts and a size cap, error classification, backoff, result downloads.
export {
  httpRequest,
  DEFAULT_MAX_BYTES,
  DEFAULT_API_TIMEOUTS,
  type HttpTimeouts,
  type HttpRequestOptions,
  type HttpResponse,
  type ResponseHeaders,
} from './request.js';
export { httpErrorFromResponse, makeHttpError, describeUrl, type HttpErrorExtras } from './errors.js';
export {
  classifyStatus,
  classifyNetworkError,
  networkErrorCode,
  statusCode,
  parseRetryAfter,
  retryAfterFromBody,
  describeErrorBody,
} from './classify.js';
export { backoffDelay, retryDelay, type BackoffOptions } from './backoff.js';
export {
  downloadResult,
  DEFAULT_DOWNLOAD_TIMEOUTS,
  DEFAULT_DOWNLOAD_MAX_BYTES,
  type DownloadOptions,
} from './download.js';
