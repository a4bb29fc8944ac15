// What every result webview (Explain, feature importance) does with the host's busy / error / result /
// probe messages, and the status it keeps for the probe to report. Each view supplies only its drawing.

import type { SourceViewHostToView } from '../../src/protocol/sourceView';
import { el } from './el';
import { button, progressRing } from './toolkit';

export type ResultStatus = 'empty' | 'busy' | 'error' | 'drawn';

/** The state a probe reports: what the view shows now and the generation of the result drawn. */
export interface ResultState {
  status: ResultStatus;
  message: string;
  generation: number;
}

export type ProbeMessage<S> = Extract<SourceViewHostToView<unknown, unknown, S>, { type: 'probe' }>;

export interface ResultViewOptions<O, R, S, M extends { type: string }> {
  app: HTMLElement;
  announce(text: string): void;
  /** Checks a host message; throws (naming the problem) on a malformed one. */
  check(v: unknown): SourceViewHostToView<O, R, S> | M;
  /** Records which source the message is about (not yet saved). */
  setOrigin(origin: O): void;
  /** Saves the webview state (origin and UI choices). */
  save(): void;
  /** Drops the view drawn so far. */
  clear(): void;
  /** Draws `result`; returns what to announce to a screen reader. */
  draw(result: R, origin: O): string;
  answerProbe(m: ProbeMessage<S>): Promise<void>;
  /** Host → view messages particular to this view. */
  other?(m: M): void;
  /** Asks the host to run the computation again (the error's button). */
  rerun(): void;
}

/** Listens for the host's messages; returns the live state for the view's probe answer. */
export function listenForResults<O, R, S, M extends { type: string } = never>(o: ResultViewOptions<O, R, S, M>): ResultState {
  const state: ResultState = { status: 'empty', message: '', generation: 0 };

  function showBusy(message: string): void {
    o.clear();
    o.app.replaceChildren();
    const p = el('p', 'busy');
    p.append(progressRing(), el('span', undefined, message));
    o.app.append(p);
    o.announce(message);
  }

  function showError(message: string): void {
    o.clear();
    o.app.replaceChildren(el('p', 'error', message));
    const actions = el('div', 'actions');
    actions.append(button('Run again', () => o.rerun(), 'primary'));
    o.app.append(actions);
    o.announce(message);
  }

  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    let m: SourceViewHostToView<O, R, S> | M;
    try {
      m = o.check(event.data);
    } catch (e) {
      console.warn(`Loupe: ignored a message from the host: ${(e as Error).message}`);
      return;
    }
    const common = m as SourceViewHostToView<O, R, S>;
    switch (common.type) {
      case 'busy':
      case 'error':
        o.setOrigin(common.origin);
        o.save();
        state.status = common.type;
        state.message = common.message;
        (common.type === 'busy' ? showBusy : showError)(common.message);
        return;
      case 'result': {
        o.setOrigin(common.origin);
        o.clear();
        const said = o.draw(common.result, common.origin);
        o.save();
        state.status = 'drawn';
        state.message = '';
        state.generation = common.generation;
        o.announce(said);
        return;
      }
      case 'probe':
        void o.answerProbe(common);
        return;
      default:
        o.other?.(m as M);
    }
  });
  return state;
}
