// The commands around the result panels: Explain Prompt (the whole file), Explain Selection,
// Compare Methods (every perturbation method on the prompt, and the gradient methods where the model
// has exact gradients, into the explanation panel's methods table with their faithfulness), Export Result (HTML, JSON or CSV of the result panel looked at last: explanation,
// attention or feature importance) and Open Dashboard.
// They go through "Loupe: Explain" (src/commands/explain.ts) for the computation itself.

import * as vscode from 'vscode';
import { Commands } from '../commandIds';
import { describeError } from '../engineClient';
import { bool, literal, obj, optional, str } from '../protocol/check';
import { EXPORT_FORMATS, type ExportFormatName } from '../protocol/sourceView';
import { lastActiveResultPanel, openResultPanels, type AnyResultPanel } from '../views/sourcePanel';

/** The perturbation methods (no gradients): what Compare Methods always runs. */
export const PERTURBATION_METHODS = ['occlusion', 'lime', 'kernelshap'] as const;
/** What Compare Methods adds where the model has exact gradients (by finite differences they cost a forward pass per token and step). */
export const EXACT_GRADIENT_METHODS = ['gradxinput', 'ig'] as const;

/** The walkthrough's example prompt (an obvious spam message, so the bundled classifier has something to say). */
const WALKTHROUGH_PROMPT = 'Congratulations! You have won a free cruise. Reply now with your bank details to claim your prize.\n';

const FORMAT_ITEMS: (vscode.QuickPickItem & { format: ExportFormatName })[] = [
  { label: 'HTML report', description: 'self-contained, opens offline', detail: 'The rendering as drawn, the provenance and the data', format: 'html' },
  { label: 'JSON', description: 'scores and provenance', detail: "The scores with the model's hash, the method, its parameters, the seed and the versions", format: 'json' },
  { label: 'CSV', description: 'a table', detail: 'One row per token (explanation), per query and key (attention) or per feature (feature importance)', format: 'csv' },
];

const exportToArgs = obj({ kind: optional(literal('attention', 'explanation', 'importance')), source: optional(str), format: literal(...EXPORT_FORMATS), path: str, replace: optional(bool) });

function uriOf(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  return vscode.window.activeTextEditor?.document.uri;
}

function panelFor(kind: AnyResultPanel['kind'] | undefined, source: string | undefined): AnyResultPanel | undefined {
  const panels = openResultPanels().filter((p) => (kind === undefined || p.kind === kind) && (source === undefined || p.origin.source === source) && !p.isDisposed);
  return panels[panels.length - 1];
}

export function registerResultCommands(): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand(Commands.explainPrompt, (arg?: unknown) => {
      const uri = uriOf(arg);
      if (!uri) {
        void vscode.window.showInformationMessage('Loupe: open a prompt file (or right-click one in the explorer) to explain it.');
        return undefined;
      }
      // A URI makes "Explain" read the whole file, whatever is selected.
      return vscode.commands.executeCommand(Commands.explain, uri);
    }),
    vscode.commands.registerCommand(Commands.explainSelection, () => {
      const editor = vscode.window.activeTextEditor;
      if (!editor || editor.selection.isEmpty) {
        void vscode.window.showInformationMessage('Loupe: select some text in an editor to explain it.');
        return undefined;
      }
      return vscode.commands.executeCommand(Commands.explain);
    }),
    vscode.commands.registerCommand(Commands.compareMethods, (arg?: unknown) => {
      const uri = uriOf(arg);
      if (!uri) {
        void vscode.window.showInformationMessage('Loupe: open a prompt file to compare the attribution methods on it.');
        return undefined;
      }
      return vscode.commands.executeCommand(Commands.explain, { uri, methods: [...PERTURBATION_METHODS], whenExact: [...EXACT_GRADIENT_METHODS], noPrompt: true });
    }),
    vscode.commands.registerCommand(Commands.exportResult, async () => {
      let panel = lastActiveResultPanel();
      const withResult = openResultPanels().filter((p) => p.hasResult && !p.isDisposed);
      if (!panel?.hasResult) {
        if (withResult.length === 0) {
          void vscode.window.showInformationMessage('Loupe: there is no result to export yet. Explain a prompt, show its attention or rank a dataset\'s features first.');
          return undefined;
        }
        const pick = await vscode.window.showQuickPick(
          withResult.map((p) => ({ label: p.panel.title, description: p.kind, panel: p })),
          { title: 'Loupe: Export Result', placeHolder: 'Which result to export' },
        );
        if (!pick) return undefined;
        panel = pick.panel;
      }
      const format = await vscode.window.showQuickPick(FORMAT_ITEMS, { title: `Loupe: export ${panel.panel.title}`, placeHolder: 'Format' });
      if (!format) return undefined;
      return panel.exportInteractive(format.format);
    }),
    vscode.commands.registerCommand(Commands.walkthroughPrompt, async () => {
      const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content: WALKTHROUGH_PROMPT });
      await vscode.window.showTextDocument(doc, { preview: false });
    }),
    vscode.commands.registerCommand(Commands.openDashboard, async () => {
      await vscode.commands.executeCommand('loupe.dashboard.focus');
    }),
    vscode.commands.registerCommand(Commands.exportResultTo, async (raw: unknown) => {
      const args = exportToArgs(raw, 'args');
      const panel = panelFor(args.kind, args.source);
      if (!panel) throw new Error(`no ${args.kind ?? 'result'} panel is open${args.source ? ` for ${args.source}` : ''}`);
      try {
        await panel.exportTo(vscode.Uri.file(args.path), args.format, { replace: args.replace ?? false });
      } catch (e) {
        throw new Error(`export failed: ${describeError(e)}`);
      }
      return args.path;
    }),
  );
}
