/* The public API with the read key in x-api-key (never in a URL), and errors as messages for people. */
export class ApiError extends Error {
  constructor(status, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export async function api(key, path, body) {
  const init = {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'x-api-key': key },
    cache: 'no-store',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
  };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network');
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const retryAfter = Number(response.headers.get('retry-after')) || null;
    throw new ApiError(response.status, (data && data.message) || response.statusText, retryAfter);
  }
  return data;
}

/** One sentence that says what happened and what to do. */
export function describe(error) {
  if (!(error instanceof ApiError)) return `Something went wrong in the dashboard: ${error.message}`;
  const { status, message } = error;
  if (status === 0) return 'The server cannot be reached. Check the connection; the next refresh tries again.';
  if (status === 401) return 'This key was not accepted (401 Unauthorized): it is unknown or revoked. Sign in with a read key.';
  if (status === 403) return `This key may not read statistics (403 Forbidden): ${message}`;
  if (status === 429) return 'Too many requests (429): the server asked to slow down. Trying again in a few seconds.';
  if (status === 400) return `The server refused this question (400 Bad Request): ${message}`;
  if (status === 504) return `The query took too long (504 Gateway Timeout): ${message}. Try a shorter period.`;
  if (status >= 500) return `The server could not answer (${status}): ${message}. Try again in a moment.`;
  return `Unexpected answer (${status}): ${message}`;
}
