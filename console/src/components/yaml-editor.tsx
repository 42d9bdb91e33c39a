// CodeMirror 6 with YAML: the editor's text, its diagnostics (from the YAML parser and the
// api's validation), Ctrl/Cmd-S to save, and a handle to select a range from outside.
import { forwardRef, useEffect, useImperativeHandle, useRef } from "react";
import { EditorView, basicSetup } from "codemirror";
import { keymap } from "@codemirror/view";
import { EditorState } from "@codemirror/state";
import { yaml } from "@codemirror/lang-yaml";
import { lintGutter, setDiagnostics, type Diagnostic } from "@codemirror/lint";

export interface YamlEditorHandle {
  select(from: number, to: number): void;
  replaceAll(text: string): void;
}

/** The page's style nonce: CodeMirror writes its styles into <style> elements, which the
 * console's Content-Security-Policy admits only with it. */
function cspNonce(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content ?? "";
}

const theme = EditorView.theme({
  "&": { backgroundColor: "var(--panel)", color: "var(--text)", fontSize: "13px" },
  ".cm-content": { fontFamily: "var(--mono)", caretColor: "var(--text)" },
  ".cm-gutters": { backgroundColor: "var(--panel-2)", color: "var(--muted)", borderRight: "1px solid var(--border)" },
  ".cm-activeLine": { backgroundColor: "color-mix(in srgb, var(--panel-2) 60%, transparent)" },
  ".cm-activeLineGutter": { backgroundColor: "var(--panel-2)" },
  "&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection": { backgroundColor: "color-mix(in srgb, var(--focus) 30%, transparent)" },
  ".cm-cursor": { borderLeftColor: "var(--text)" },
  ".cm-tooltip": { backgroundColor: "var(--panel)", color: "var(--text)", border: "1px solid var(--border)" },
});

export const YamlEditor = forwardRef<
  YamlEditorHandle,
  {
    initial: string;
    diagnostics: Diagnostic[];
    readOnly?: boolean;
    onChange: (text: string) => void;
    onCursor?: (offset: number) => void;
    onSave?: () => void;
    label: string;
  }
>(function YamlEditor({ initial, diagnostics, readOnly, onChange, onCursor, onSave, label }, ref) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  // The latest callbacks, without rebuilding the editor when they change.
  const callbacks = useRef({ onChange, onCursor, onSave });
  callbacks.current = { onChange, onCursor, onSave };

  useEffect(() => {
    const editor = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: initial,
        extensions: [
          EditorView.cspNonce.of(cspNonce()),
          basicSetup,
          yaml(),
          lintGutter(),
          theme,
          EditorState.readOnly.of(!!readOnly),
          EditorView.contentAttributes.of({ "aria-label": label }),
          keymap.of([
            {
              key: "Mod-s",
              preventDefault: true,
              run: () => {
                callbacks.current.onSave?.();
                return true;
              },
            },
          ]),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) callbacks.current.onChange(update.state.doc.toString());
            if (update.selectionSet || update.docChanged) callbacks.current.onCursor?.(update.state.selection.main.head);
          }),
        ],
      }),
    });
    view.current = editor;
    return () => {
      editor.destroy();
      view.current = null;
    };
    // The editor is made once per document; `initial` changes through replaceAll.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const editor = view.current;
    if (!editor) return;
    const length = editor.state.doc.length;
    const inside = diagnostics.map((d) => ({ ...d, from: Math.min(d.from, length), to: Math.min(Math.max(d.to, d.from), length) }));
    editor.dispatch(setDiagnostics(editor.state, inside));
  }, [diagnostics]);

  useImperativeHandle(ref, () => ({
    select(from, to) {
      const editor = view.current;
      if (!editor) return;
      const length = editor.state.doc.length;
      editor.dispatch({ selection: { anchor: Math.min(from, length), head: Math.min(to, length) }, scrollIntoView: true });
      editor.focus();
    },
    replaceAll(text) {
      const editor = view.current;
      if (!editor) return;
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: text } });
    },
  }));

  return <div className="editor-host" ref={host} />;
});
