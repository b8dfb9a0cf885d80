import type { ComponentChildren } from "preact";
import { BASE, navigate } from "../app/router";

/** An in-console link: a real <a href> (open in a new tab works), routed without a reload. */
export function Link(props: {
  href: string;
  current?: boolean;
  class?: string;
  children: ComponentChildren;
}) {
  return (
    <a
      href={BASE + props.href}
      class={props.class}
      aria-current={props.current ? "page" : undefined}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}
