// The attention webview's only way to talk to the host: typed messages from the shared protocol module.

import type { AttentionMode, ViewOrigin, ViewToHost } from '../../src/protocol/attentionViewProtocol';
import type { ColourScale } from './matrix';

/** What the webview keeps across reloads (VS Code hands it to the panel serializer too). */
export interface SavedState {
  origin: ViewOrigin;
  ui: { mode: AttentionMode; layer: number; head: number; query: number | null; scale: ColourScale };
}

interface VsCodeApi {
  postMessage(message: ViewToHost): void;
  getState(): unknown;
  setState(state: SavedState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export const host: VsCodeApi = acquireVsCodeApi();
