// The attention webview's only way to talk to the host: typed messages from the shared protocol module.

import type { AttentionMode, ViewOrigin, ViewToHost } from '../../src/protocol/attentionViewProtocol';
import { acquireHost, type VsCodeApi } from '../components/vscodeApi';
import type { ColourScale } from './matrix';

/** What the webview keeps across reloads (VS Code hands it to the panel serializer too). */
export interface SavedState {
  origin: ViewOrigin;
  ui: { mode: AttentionMode; layer: number; head: number; query: number | null; scale: ColourScale };
}

/** The one handle on the host (VS Code allows one acquireVsCodeApi call per webview). */
export const host: VsCodeApi<ViewToHost, SavedState> = acquireHost<ViewToHost, SavedState>();
