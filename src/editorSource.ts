// The text a command runs on, and the way back to it: the active editor's selection or document,
// or a file picked in the explorer (shown in an editor first, so that a result opens beside it).

import * as vscode from 'vscode';
import { describeError } from './engineClient';

export interface SourceText {
  text: string;
  source: vscode.Uri;
  /** The selection's character range in the document, or null for the whole document. */
  range: { start: number; end: number } | null;
}

export async function sourceTextFrom(arg: unknown): Promise<SourceText | null> {
  if (arg instanceof vscode.Uri) {
    const doc = await vscode.workspace.openTextDocument(arg);
    if (!vscode.window.visibleTextEditors.some((e) => e.document.uri.toString() === arg.toString())) {
      await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: false });
    }
    return { text: doc.getText(), source: arg, range: null };
  }
  const editor = vscode.window.activeTextEditor;
  if (!editor) return null;
  const doc = editor.document;
  const sel = editor.selection;
  if (!sel.isEmpty) return { text: doc.getText(sel), source: doc.uri, range: { start: doc.offsetAt(sel.start), end: doc.offsetAt(sel.end) } };
  return { text: doc.getText(), source: doc.uri, range: null };
}

/** How messages and panel titles name a source: its workspace-relative path (an untitled editor by its name). */
export function sourceLabel(source: vscode.Uri): string {
  return source.scheme === 'untitled' ? source.path : vscode.workspace.asRelativePath(source);
}

/**
 * The text a command runs on (as sourceTextFrom), or null after telling the user why there is none:
 * the file could not be opened, no editor is open, or the text is empty. `nothingOpen` and `empty`
 * say it in the command's words.
 */
export async function promptSourceFrom(arg: unknown, say: { nothingOpen: string; empty: string }): Promise<SourceText | null> {
  let source: SourceText | null;
  try {
    source = await sourceTextFrom(arg);
  } catch (e) {
    const file = arg instanceof vscode.Uri ? sourceLabel(arg) : 'the file';
    void vscode.window.showErrorMessage(`Loupe: ${file} could not be opened: ${describeError(e)}`);
    return null;
  }
  if (!source) {
    void vscode.window.showInformationMessage(`Loupe: ${say.nothingOpen}`);
    return null;
  }
  if (source.text.trim() === '') {
    void vscode.window.showWarningMessage(`Loupe: ${sourceLabel(source.source)} is empty: ${say.empty}`);
    return null;
  }
  return source;
}

/** Selects a character range of the source in the editor that shows it (never over a result panel). */
export async function revealSourceRange(source: vscode.Uri, start: number, end: number): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(source);
  const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === source.toString());
  const editor = await vscode.window.showTextDocument(doc, { viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One, preserveFocus: false });
  const range = new vscode.Range(doc.positionAt(start), doc.positionAt(end));
  editor.selection = new vscode.Selection(range.start, range.end);
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}
