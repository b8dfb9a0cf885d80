import { useState } from "preact/hooks";

async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** A button that copies `text` and says so (politely, for screen readers too). */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [said, setSaid] = useState("");
  return (
    <span class="copy">
      <button
        type="button"
        onClick={async () => setSaid((await copy(text)) ? "Copied" : "Select the text to copy")}
      >
        {label}
      </button>
      <span class="copied" aria-live="polite">
        {said}
      </span>
    </span>
  );
}
