// The webviews' HTML shell inside VS Code: a strict Content-Security-Policy. Scripts run only by the
// per-load nonce; styles come from the extension's files, plus the one <style> the toolkit adds to
// detect :focus-visible, admitted by the same nonce (it reads the csp-nonce meta); nothing inline
// or eval'd otherwise, and every other kind of resource is refused.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { webviewHtml, webviewOptions } from '../../../src/views/webviewHtml';
import { EXTENSION_ID } from './helpers';

suite('Webview Content-Security-Policy', () => {
  test('scripts and the toolkit\'s <style> by a fresh nonce, no unsafe-inline or unsafe-eval, default-src none', () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    const panel = vscode.window.createWebviewPanel('loupe.cspTest', 'CSP test', vscode.ViewColumn.One, webviewOptions(ext.extensionUri));
    try {
      const html = webviewHtml(panel.webview, ext.extensionUri, 'prediction', 'CSP test');
      const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
      assert.ok(csp, 'no CSP meta');
      const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));
      const nonce = /<script nonce="([^"]+)" src=/.exec(html)?.[1];
      assert.ok(nonce && nonce.length >= 16, 'no script nonce');
      assert.deepStrictEqual(directives.get('default-src'), ["'none'"]);
      assert.deepStrictEqual(directives.get('script-src'), [`'nonce-${nonce}'`]);
      assert.deepStrictEqual(directives.get('style-src'), [...panel.webview.cspSource.split(/\s+/), `'nonce-${nonce}'`]);
      assert.ok(!/unsafe-inline|unsafe-eval|unsafe-hashes/.test(csp), csp);
      assert.ok(html.includes(`<meta property="csp-nonce" content="${nonce}">`), 'the toolkit cannot find the nonce');
      // Every script tag carries the nonce.
      assert.strictEqual((html.match(/<script\b/g) ?? []).length, (html.match(new RegExp(`<script nonce="${nonce.replace(/[+/=]/g, (c) => `\\${c}`)}"`, 'g')) ?? []).length);
      const again = webviewHtml(panel.webview, ext.extensionUri, 'prediction', 'CSP test');
      assert.notStrictEqual(/<script nonce="([^"]+)"/.exec(again)?.[1], nonce, 'the nonce is reused between loads');
    } finally {
      panel.dispose();
    }
  });
});
