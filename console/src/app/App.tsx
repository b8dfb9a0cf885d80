// The frame: sign-in until there is a token, then the navigation and the routed screen.
import { useEffect, useRef } from "preact/hooks";
import { CredentialsPage } from "../screens/CredentialsPage";
import { ExecutionPage } from "../screens/ExecutionPage";
import { ExecutionsScreen } from "../screens/ExecutionsScreen";
import { SignIn } from "../screens/SignIn";
import { TokensPage } from "../screens/TokensPage";
import { WorkflowList } from "../screens/WorkflowList";
import { WorkflowPage } from "../screens/WorkflowPage";
import { Link } from "../ui/Link";
import { match, useRoute } from "./router";
import { session, signOut } from "./session";
import { useStore } from "./store";

export function App() {
  const { token } = useStore(session);
  if (!token) return <SignIn />;
  return <Console />;
}

function Screen({ path }: { path: string }) {
  let params: Record<string, string> | null;
  if ((params = match("/workflows/:id/:tab?", path))) {
    return <WorkflowPage id={params.id} tab={params.tab ?? "trigger"} />;
  }
  if ((params = match("/executions/:id", path))) return <ExecutionPage id={params.id} />;
  if (match("/executions", path)) return <ExecutionsScreen />;
  if (match("/tokens", path)) return <TokensPage />;
  if (match("/credentials", path)) return <CredentialsPage />;
  if (match("/", path) || match("/workflows", path)) return <WorkflowList />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no page at this address. <Link href="/">Go to the workflows</Link>.
      </p>
    </section>
  );
}

function Console() {
  const { path } = useRoute();
  const main = useRef<HTMLElement>(null);
  const section = path.split("/")[1] || "workflows";
  useEffect(() => {
    // After navigating, put the focus on the new page's heading for keyboard and reader users.
    const heading = main.current?.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
  }, [path.split("/").slice(0, 3).join("/")]);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Gateway</span>
        <nav aria-label="Main">
          <ul>
            <li>
              <Link href="/" current={section === "workflows"}>
                Workflows
              </Link>
            </li>
            <li>
              <Link href="/executions" current={section === "executions"}>
                Executions
              </Link>
            </li>
            <li>
              <Link href="/credentials" current={section === "credentials"}>
                Credentials
              </Link>
            </li>
            <li>
              <Link href="/tokens" current={section === "tokens"}>
                Admin tokens
              </Link>
            </li>
            <li>
              <a href="/graphql">
                GraphiQL
              </a>
            </li>
          </ul>
        </nav>
        <button type="button" class="quiet" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" ref={main}>
        <Screen path={path} />
      </main>
    </>
  );
}
