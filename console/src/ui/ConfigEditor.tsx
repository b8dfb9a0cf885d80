// A JSON value edited as JSON or YAML text. The text is the state; it is read when saved.
import { dump, load } from "js-yaml";
import { useState } from "preact/hooks";

export type Format = "json" | "yaml";

export function show(value: unknown, format: Format): string {
  return format === "json" ? JSON.stringify(value ?? {}, null, 2) : dump(value ?? {}, { lineWidth: 100, noRefs: true });
}

/** The value of `text`, or an Error saying where it does not read. */
export function read(text: string, format: Format): unknown {
  if (format === "json") return JSON.parse(text);
  return load(text);
}

export function useConfigText(initial: unknown) {
  const [format, setFormat] = useState<Format>("yaml");
  const [text, setText] = useState(show(initial, "yaml"));
  const [syntax, setSyntax] = useState<string | null>(null);
  return {
    format,
    text,
    syntax,
    setText(next: string) {
      setText(next);
      setSyntax(null);
    },
    /** Switch formats, keeping the value (refused while the text does not read). */
    switchTo(next: Format) {
      if (next === format) return;
      try {
        setText(show(read(text, format), next));
        setFormat(next);
        setSyntax(null);
      } catch (error) {
        setSyntax(`Fix the ${format.toUpperCase()} first: ${(error as Error).message}`);
      }
    },
    reset(value: unknown) {
      setText(show(value, format));
      setSyntax(null);
    },
    value(): { ok: true; value: unknown } | { ok: false } {
      try {
        return { ok: true, value: read(text, format) };
      } catch (error) {
        setSyntax(`Not valid ${format.toUpperCase()}: ${(error as Error).message}`);
        return { ok: false };
      }
    },
  };
}

export type ConfigText = ReturnType<typeof useConfigText>;

export function ConfigEditor(props: { id: string; label: string; config: ConfigText; describedBy?: string; invalid?: boolean }) {
  const { config } = props;
  return (
    <div class="config-editor">
      <div class="heading-row">
        <label for={props.id}>{props.label}</label>
        <fieldset class="inline segmented">
          <legend class="visually-hidden">{props.label}: format</legend>
          {(["yaml", "json"] as const).map((f) => (
            <label class="check" key={f}>
              <input type="radio" name={`${props.id}-format`} checked={config.format === f} onChange={() => config.switchTo(f)} />
              {f.toUpperCase()}
            </label>
          ))}
        </fieldset>
      </div>
      <textarea
        id={props.id}
        class="mono"
        rows={Math.min(24, Math.max(6, config.text.split("\n").length + 1))}
        spellcheck={false}
        value={config.text}
        onInput={(e) => config.setText(e.currentTarget.value)}
        aria-describedby={`${props.id}-syntax ${props.describedBy ?? ""}`}
        aria-invalid={props.invalid || config.syntax ? "true" : undefined}
      />
      {config.syntax ? (
        <p id={`${props.id}-syntax`} class="field-problems" role="alert">
          {config.syntax}
        </p>
      ) : (
        <span id={`${props.id}-syntax`} hidden />
      )}
    </div>
  );
}
