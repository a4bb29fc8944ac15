// The layer of Layer gradient × activation (layer-gradxact): a quick pick of the transformer blocks
// the engine found (their output tensors, from the plan), or a tensor typed by name.

import * as vscode from 'vscode';

export type LayerChoice = number | string;

interface LayerItem extends vscode.QuickPickItem {
  layer: LayerChoice | 'by-name';
}

/** The items: one per block (the engine's default, the last block's input, first), then "a tensor by name…". */
export function layerItems(blocks: readonly string[]): LayerItem[] {
  const last = blocks.length - 1;
  const byDefault = blocks.length >= 2 ? last - 1 : -1;
  const items: LayerItem[] = blocks.map((tensor, i) => ({
    label: `Block ${i}`,
    description:
      i === byDefault ? "default · the last block's input" : i === last ? "final hidden state · only the target's own position gets a gradient" : undefined,
    detail: tensor,
    layer: i,
  }));
  if (byDefault >= 0) items.unshift(...items.splice(byDefault, 1));
  items.push({ label: 'A tensor by name…', detail: 'Any [batch, sequence, hidden] tensor of the ONNX graph', layer: 'by-name' });
  return items;
}

export function validateTensorName(v: string): string | undefined {
  return v.trim().length === 0 ? 'Enter the name of a tensor of the ONNX graph (as Netron shows it).' : undefined;
}

/** Asks for the layer; undefined when dismissed. `blocks` undefined: none were found, so only a name can be given. */
export async function askLayer(blocks: readonly string[] | undefined): Promise<LayerChoice | undefined> {
  const items = layerItems(blocks ?? []);
  const pick =
    items.length === 1
      ? items[0]!
      : await vscode.window.showQuickPick(items, {
          title: 'Loupe: layer for Layer gradient × activation',
          placeHolder: 'The transformer block whose output is attributed, or a tensor by name',
          matchOnDetail: true,
        });
  if (!pick) return undefined;
  if (pick.layer !== 'by-name') return pick.layer;
  const name = await vscode.window.showInputBox({
    title: 'Loupe: tensor to attribute',
    prompt: blocks && blocks.length > 0 ? 'The name of a [batch, sequence, hidden] tensor of the ONNX graph' : 'Loupe found no transformer blocks in this model: name a [batch, sequence, hidden] tensor of the ONNX graph',
    validateInput: validateTensorName,
  });
  if (name === undefined || validateTensorName(name) !== undefined) return undefined;
  return name.trim();
}
