// A webview's handle on the host (VS Code's acquireVsCodeApi), typed by the view's protocol module.

export interface VsCodeApi<ToHost, State = unknown> {
  postMessage(message: ToHost): void;
  getState(): unknown;
  setState(state: State): void;
}

declare function acquireVsCodeApi(): VsCodeApi<unknown, unknown>;

/** The host API; VS Code allows one call per webview, so each view's host.ts calls it once. */
export function acquireHost<ToHost, State = unknown>(): VsCodeApi<ToHost, State> {
  return acquireVsCodeApi() as VsCodeApi<ToHost, State>;
}
