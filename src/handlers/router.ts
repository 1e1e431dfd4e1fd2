import type { AllMiddlewareArgs, App, BlockAction, SlackActionMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';

type Id = string | RegExp;
type Listener<Args> = (args: Args) => Promise<void>;
type ActionArgs = SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs;
type ViewArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

const matches = (id: Id, value: string) => (typeof id === 'string' ? id === value : id.test(value));

/**
 * The app as the handlers see it, with one Bolt listener for all button clicks and one for all
 * form submissions.
 *
 * Bolt runs the middleware of every registered listener for every request it receives, a slash
 * command included: each `app.action(id)` / `app.view(id)` adds a copy of the arguments, a few
 * promises and some garbage to every request. With a dozen buttons and forms that was most of what
 * Slipway's own code cost per command. Here `action(id, …)` and `view(id, …)` with an id (string
 * or RegExp) are collected instead, and the one listener per kind calls the listeners whose
 * `action_id` or `callback_id` matches, as Bolt would (in registration order, all that match).
 * Anything else (`command`, `event`, constraint objects) goes to Bolt unchanged.
 */
export function routedApp(app: App): App {
  const actions: { id: Id; listeners: Listener<ActionArgs>[] }[] = [];
  const views: { id: Id; listeners: Listener<ViewArgs>[] }[] = [];

  const run = async <Args>(routes: { id: Id; listeners: Listener<Args>[] }[], value: string | undefined, args: Args) => {
    if (value === undefined) return;
    await Promise.all(routes.filter((route) => matches(route.id, value)).flatMap((route) => route.listeners.map((listener) => listener(args))));
  };

  const action = (id: unknown, ...listeners: Listener<ActionArgs>[]) => {
    if (typeof id !== 'string' && !(id instanceof RegExp)) return (app.action as (...a: unknown[]) => void)(id, ...listeners);
    // The first route registers the one listener. Bolt's own id constraints match block actions
    // only; so does this.
    if (actions.push({ id, listeners }) === 1) app.action<BlockAction>({ type: 'block_actions' }, (args) => run(actions, args.action.action_id, args));
  };
  const view = (id: unknown, ...listeners: Listener<ViewArgs>[]) => {
    if (typeof id !== 'string' && !(id instanceof RegExp)) return (app.view as (...a: unknown[]) => void)(id, ...listeners);
    // A bare callback id means submissions to Bolt (not view_closed); the same here.
    if (views.push({ id, listeners }) === 1) app.view<ViewSubmitAction>({ type: 'view_submission' }, (args) => run(views, args.view.callback_id, args));
  };

  return new Proxy(app, {
    get(target, property) {
      if (property === 'action') return action;
      if (property === 'view') return view;
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
