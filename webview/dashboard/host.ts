// The dashboard webview's only way to talk to the host: typed messages from the shared protocol module.

import type { ViewToHost } from '../../src/protocol/dashboardViewProtocol';

interface VsCodeApi {
  postMessage(message: ViewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export const host: VsCodeApi = acquireVsCodeApi();
