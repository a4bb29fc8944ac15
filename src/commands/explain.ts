// "Loupe: Explain": attributes the current model's output to the tokens of the active editor's
// selection or document (or a prompt file from the explorer). It asks which methods to run (each
// with the forward passes planned) and, for a classifier, which class to explain (for a causal LM:
// the next token, a continuation, or a generation of N tokens); then runs them in
// the engine (progress with Cancel) and shows the result in a panel beside the editor (one per source
// file) and as inline highlights in the editor. Called with { text, model?, methods?, target?, … }
// it returns the engine's result without any UI (for other extensions and tests). Called with
// { uri, methods, target?, model?, noPrompt: true } it runs interactively without the quick picks
// (tests); a model named there stays the panel's model when it is run again.
//
// `loupe._explainViewState` is an internal command for the integration tests (not in package.json):
// it reports what the view drew and how many inline decorations are set.
// `loupe.toggleInlineAttributions` shows or hides the inline highlights.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands } from '../commandIds';
import { promptSourceFrom, sourceLabel, type SourceText } from '../editorSource';
import { describeError, EngineClient } from '../engineClient';
import { resolveModelArg } from '../modelCatalog';
import type { ModelSelection } from '../modelSelection';
import { bool, int, obj, optional, str } from '../protocol/check';
import { EXPLAIN_VIEW_TYPE, explainSelection, METHOD_LABELS, type AttributionMethod, type ExplainOrigin, type ExplainProbe, type ExplainSelection } from '../protocol/explainViewProtocol';
import { ATTRIBUTION_METHODS, attributionTarget, type AttributionTarget, type ExplainParams, type ExplainResult } from '../protocol/workerProtocol';
import { readSettings } from '../settings';
import { ExplainPanel, type ExplainPanelHost } from '../views/explainPanel';
import { InlineAttributions } from '../views/inlineAttributions';
import { askLayer } from './layerPick';
import { runInPanel } from './panelRun';

const DEFAULT_METHODS: readonly AttributionMethod[] = ['occlusion', 'kernelshap'];

export interface ExplainArgs {
  text?: string;
  uri?: vscode.Uri | string;
  model?: string;
  methods?: AttributionMethod[];
  /** A class index, or a full attribution target. */
  target?: number | AttributionTarget;
  baseline?: ExplainParams['baseline'];
  samples?: number;
  steps?: number;
  seed?: number;
  /** layer-gradxact: a block index or a tensor name (default: the last block's input). */
  layer?: number | string;
  /** Interactive run without the quick picks (Compare Methods, tests). */
  noPrompt?: boolean;
  /** Methods run only where the model has exact gradients (dropped where they would take finite differences). */
  whenExact?: AttributionMethod[];
}

function isExplainArgs(v: unknown): v is ExplainArgs {
  if (typeof v !== 'object' || v === null || v instanceof vscode.Uri) return false;
  const o = v as Record<string, unknown>;
  if (o.text !== undefined && typeof o.text !== 'string') return false;
  const methodList = (x: unknown): boolean => x === undefined || (Array.isArray(x) && x.every((m) => (ATTRIBUTION_METHODS as readonly unknown[]).includes(m)));
  if (!methodList(o.methods) || !methodList(o.whenExact)) return false;
  return o.text !== undefined || o.uri !== undefined;
}

export const MAX_GENERATE_TOKENS = 32;

/** "Generate…": the number of tokens, or the reason it is not one (for the input box). */
export function validateGenerateCount(v: string): string | undefined {
  const t = v.trim();
  if (!/^\d+$/.test(t)) return `Enter a whole number of tokens from 1 to ${MAX_GENERATE_TOKENS}.`;
  const n = Number(t);
  if (n < 1 || n > MAX_GENERATE_TOKENS) return `The number of tokens must be from 1 to ${MAX_GENERATE_TOKENS} (got ${n}).`;
  return undefined;
}

/** A causal LM's target: the next token (the argmax), a continuation (log-probability), or a generation. Undefined when dismissed. */
async function askLmTarget(): Promise<AttributionTarget | undefined> {
  type Item = vscode.QuickPickItem & { kind2: 'next-token' | 'continuation' | 'generate' };
  const items: Item[] = [
    { label: 'Next token', description: 'default', detail: "The model's most likely next token", kind2: 'next-token' },
    { label: 'Continuation…', detail: 'A continuation you type, scored as its log-probability', kind2: 'continuation' },
    { label: 'Generate…', detail: `N tokens generated greedily (1–${MAX_GENERATE_TOKENS}), each explained over the prompt and the tokens before it`, kind2: 'generate' },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Loupe: what to explain', placeHolder: 'The next token, a continuation, or a generation' });
  if (!pick) return undefined;
  switch (pick.kind2) {
    case 'next-token':
      return { kind: 'next-token' };
    case 'continuation': {
      const text = await vscode.window.showInputBox({
        title: 'Loupe: continuation to explain',
        prompt: 'The text that follows the prompt (include a leading space if the model expects one); its log-probability is explained',
        validateInput: (v) => (v.length === 0 ? 'Enter the continuation text.' : undefined),
      });
      if (text === undefined || text.length === 0) return undefined;
      return { kind: 'continuation', text, output: 'logprob' };
    }
    case 'generate': {
      const n = await vscode.window.showInputBox({
        title: 'Loupe: tokens to generate',
        prompt: `How many tokens to generate and explain (1–${MAX_GENERATE_TOKENS})`,
        value: '8',
        validateInput: validateGenerateCount,
      });
      if (n === undefined || validateGenerateCount(n) !== undefined) return undefined;
      return { kind: 'generate', maxTokens: Number(n.trim()) };
    }
  }
}

function targetOf(t: number | AttributionTarget | null | undefined): AttributionTarget | undefined {
  if (t === undefined || t === null) return undefined;
  return typeof t === 'number' ? { kind: 'class', index: t } : t;
}

const probeArgs = obj({
  source: optional(str),
  select: optional(explainSelection),
  png: optional(bool),
  timeoutMs: optional(int),
});

export type ExplainViewState = Omit<ExplainProbe, 'png'> & { pngBase64?: string; viewColumn?: number; source: string; inlineDecorations: number; inlineEnabled: boolean };

export function registerExplain(context: vscode.ExtensionContext, engine: EngineClient, models: ModelSelection): vscode.Disposable {
  const maxTokens = (): number | undefined => readSettings().maxTokens ?? undefined;
  const inline = new InlineAttributions();
  context.subscriptions.push(inline);

  const paramsFor = (origin: ExplainOrigin, modelPath: string, text: string): ExplainParams => ({
    model: { path: modelPath },
    text,
    methods: origin.methods,
    target: targetOf(origin.target),
    maxTokens: maxTokens(),
    layer: origin.methods.includes('layer-gradxact') ? origin.layer : undefined,
  });

  const compute = async (panel: ExplainPanel, text: string): Promise<ExplainResult | undefined> => {
    const label = panel.origin.label;
    const modelPath = panel.origin.modelPath ?? models.current();
    const model = panel.origin.modelPath !== undefined ? path.basename(panel.origin.modelPath) : models.label();
    panel.origin = { ...panel.origin, model };
    const methods = panel.origin.methods.map((m) => METHOD_LABELS[m]).join(', ');
    return runInPanel(engine, panel, {
      model,
      noun: 'explanation',
      busy: `Explaining ${model} on ${label} with ${methods}…`,
      title: `Loupe: explaining ${model} on ${path.basename(label)}`,
      cancelled: 'Cancelled. Run again to explain.',
      request: (token, onProgress) => engine.request('explain', paramsFor(panel.origin, modelPath, text), token, onProgress),
      progressMessage: (done, total) => (total > 0 ? `${done} / ${total} forward passes` : undefined),
      shown: (result) => inline.set(panel.source, panel.origin.range?.start ?? 0, result),
    });
  };

  const rerun = async (panel: ExplainPanel): Promise<void> => {
    const text = await panel.readSourceText();
    if (text !== null) await compute(panel, text);
  };

  const host: ExplainPanelHost = {
    rerun,
    methodChanged: (panel, method) => inline.setMethod(panel.source, method),
    log: engine.log,
  };

  /** Those of `methods` that get exact gradients on the model (none if planning fails: the run says why). */
  const exactOnes = async (text: string, methods: AttributionMethod[], modelPath?: string): Promise<AttributionMethod[]> => {
    try {
      const plan = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Loupe: planning the explanation' }, () =>
        engine.request('plan', { model: { path: modelPath ?? models.current() }, text, methods, maxTokens: maxTokens() }),
      );
      return plan.plans.filter((p) => p.gradients === 'exact').map((p) => p.method);
    } catch (e) {
      engine.log.warn(`Plan failed: ${describeError(e)}`);
      return [];
    }
  };

  /** The quick picks: methods (with planned forward passes) and, for a classifier, the class; for a causal LM, the target. */
  const ask = async (target: SourceText): Promise<{ methods: AttributionMethod[]; target: ExplainOrigin['target']; layer?: ExplainOrigin['layer'] } | undefined> => {
    const modelPath = models.current();
    const [plan, info] = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Loupe: planning the explanation' }, () =>
      Promise.all([
        engine.request('plan', { model: { path: modelPath }, text: target.text, methods: [...ATTRIBUTION_METHODS], maxTokens: maxTokens() }).catch((e: unknown) => {
          engine.log.warn(`Plan failed: ${describeError(e)}`);
          return null;
        }),
        engine.request('describe', { model: { path: modelPath } }),
      ]),
    );
    const planned = new Map(plan?.plans.map((p) => [p.method, p]) ?? []);
    const describe = (m: AttributionMethod): string => {
      const p = planned.get(m);
      if (!p) return 'forward passes unknown';
      return `${p.forwardPasses} forward passes${p.gradients === 'exact' ? ', exact gradients' : p.gradients === 'finite-differences' ? ', finite differences' : ''}`;
    };
    const items = ATTRIBUTION_METHODS.map((m) => ({
      label: METHOD_LABELS[m],
      method: m,
      description: describe(m),
      picked: DEFAULT_METHODS.includes(m),
    }));
    const picked = await vscode.window.showQuickPick(items, {
      canPickMany: true,
      title: `Loupe: explain ${path.basename(target.source.path)}${plan ? ` (${plan.numTokens} tokens)` : ''}`,
      placeHolder: 'Attribution methods to run and compare',
    });
    if (!picked || picked.length === 0) return undefined;
    let layer: ExplainOrigin['layer'];
    if (picked.some((p) => p.method === 'layer-gradxact')) {
      layer = await askLayer(plan?.blocks);
      if (layer === undefined) return undefined;
    }
    let cls: ExplainOrigin['target'] = null;
    if (info.task === 'causal-lm') {
      const lm = await askLmTarget();
      if (lm === undefined) return undefined;
      cls = lm;
    } else if (info.task === 'text-classifier' && info.labels && info.labels.length > 0) {
      const classItems = [{ label: 'Predicted class', description: 'default', index: null as number | null }, ...info.labels.map((l, i) => ({ label: l, description: `class ${i}`, index: i as number | null }))];
      const c = await vscode.window.showQuickPick(classItems, { title: 'Loupe: class to explain', placeHolder: 'The predicted class, or another one' });
      if (!c) return undefined;
      cls = c.index;
    }
    return { methods: picked.map((p) => p.method), target: cls, ...(layer !== undefined ? { layer } : {}) };
  };

  const open = async (source: SourceText, methods: AttributionMethod[], target: ExplainOrigin['target'], modelPath?: string, layer?: ExplainOrigin['layer']): Promise<ExplainResult | undefined> => {
    const origin: ExplainOrigin = {
      source: source.source.toString(),
      label: sourceLabel(source.source),
      range: source.range,
      model: modelPath !== undefined ? path.basename(modelPath) : models.label(),
      ...(modelPath !== undefined ? { modelPath } : {}),
      methods,
      target,
      ...(layer !== undefined ? { layer } : {}),
    };
    const panel = ExplainPanel.show(context.extensionUri, origin, host);
    return compute(panel, source.text);
  };

  const stateOf = (panel: ExplainPanel, p: ExplainProbe): ExplainViewState => {
    const { png, ...rest } = p;
    return {
      ...rest,
      source: panel.origin.source,
      viewColumn: panel.panel.viewColumn,
      inlineDecorations: inline.count(panel.source),
      inlineEnabled: inline.enabled,
      ...(png ? { pngBase64: Buffer.from(png).toString('base64') } : {}),
    };
  };

  const viewState = async (raw: unknown): Promise<ExplainViewState> => {
    const args = probeArgs(raw ?? {}, 'args');
    const panel = ExplainPanel.find(args.source);
    if (!panel) throw new Error(args.source ? `no explanation view for ${args.source}` : 'no explanation view is open');
    const until = Date.now() + (args.timeoutMs ?? 60_000);
    for (;;) {
      const p = await panel.probe(undefined, false, Math.max(1000, until - Date.now()));
      const settled = !panel.running && (p.status === 'error' || (p.status === 'drawn' && p.generation === panel.generation));
      if (settled) break;
      if (Date.now() > until) return stateOf(panel, p);
      await new Promise((r) => setTimeout(r, 100));
    }
    const p = await panel.probe(args.select as ExplainSelection | undefined, args.png === true, Math.max(1000, until - Date.now()));
    return stateOf(panel, p);
  };

  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(EXPLAIN_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state) => ExplainPanel.revive(panel, context.extensionUri, state, host),
    }),
    vscode.commands.registerCommand(Commands.explainViewState, viewState),
    vscode.commands.registerCommand(Commands.toggleInlineAttributions, () => {
      const on = inline.toggle();
      void vscode.window.setStatusBarMessage(`Loupe: inline attributions ${on ? 'shown' : 'hidden'}`, 3000);
      return on;
    }),
  );

  return vscode.commands.registerCommand(Commands.explain, async (arg?: unknown): Promise<ExplainResult | undefined> => {
    if (isExplainArgs(arg) && arg.text !== undefined && arg.uri === undefined) {
      // Programmatic use: no UI but the progress; errors go to the caller.
      const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
      const modelPath = arg.model !== undefined ? resolveModelArg(arg.model, base) : models.current();
      const params: ExplainParams = {
        model: { path: modelPath },
        text: arg.text,
        methods: arg.methods && arg.methods.length > 0 ? arg.methods : [...DEFAULT_METHODS],
        target: targetOf(arg.target),
        baseline: arg.baseline,
        samples: arg.samples,
        steps: arg.steps,
        seed: arg.seed,
        maxTokens: maxTokens(),
        layer: arg.layer,
      };
      return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Loupe: explaining ${path.basename(modelPath)}`, cancellable: true }, (_progress, token) =>
        engine.request('explain', params, token),
      );
    }
    const preset = isExplainArgs(arg) ? arg : undefined;
    const from = preset ? (typeof preset.uri === 'string' ? vscode.Uri.parse(preset.uri) : preset.uri) : arg;
    const source = await promptSourceFrom(from, { nothingOpen: 'open a prompt file, or select some text, to explain.', empty: 'there is nothing to explain.' });
    if (!source) return undefined;
    if (preset?.noPrompt) {
      let t: ExplainOrigin['target'];
      let modelPath: string | undefined;
      let layer: ExplainOrigin['layer'];
      try {
        if (preset.layer !== undefined) layer = typeof preset.layer === 'number' ? int(preset.layer, 'layer') : str(preset.layer, 'layer');
        t = preset.target === undefined ? null : typeof preset.target === 'number' ? int(preset.target, 'target') : attributionTarget(preset.target, 'target');
        if (preset.model !== undefined) modelPath = resolveModelArg(preset.model, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd());
      } catch (e) {
        void vscode.window.showErrorMessage(`Loupe: invalid explanation arguments: ${describeError(e)}`);
        return undefined;
      }
      let methods = preset.methods && preset.methods.length > 0 ? preset.methods : [...DEFAULT_METHODS];
      if (preset.whenExact && preset.whenExact.length > 0) methods = methods.concat(await exactOnes(source.text, preset.whenExact, modelPath));
      return open(source, methods, t, modelPath, layer);
    }
    let choice: { methods: AttributionMethod[]; target: ExplainOrigin['target']; layer?: ExplainOrigin['layer'] } | undefined;
    try {
      choice = await ask(source);
    } catch (e) {
      void vscode.window.showErrorMessage(`Loupe: could not prepare the explanation: ${describeError(e)}`);
      return undefined;
    }
    if (!choice) return undefined;
    return open(source, choice.methods, choice.target, undefined, choice.layer);
  });
}
