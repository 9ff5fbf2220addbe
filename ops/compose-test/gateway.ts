/**
 * The compose test's one way to call the gateway (scripts/compose-scenario.ts and
 * ops/compose-test/cluster-check.ts): a request with an API key, a JSON body when there is one,
 * and the answer's status and JSON body ({} when empty).
 */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export function gatewayCall(gatewayUrl: string) {
  return async function call(
    key: string,
    method: string,
    path: string,
    body?: unknown,
    headers = {},
  ): Promise<Answer> {
    const response = await fetch(`${gatewayUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : {} };
  };
}
