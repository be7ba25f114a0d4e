// @ts-check
/** Names each typedoc module after its package ("format/src/conformance" → "@nmkit/format/conformance"). */
import { Converter, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const reflection of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const match = /^(?:packages\/)?([\w-]+)\/src(?:\/(.+))?$/.exec(reflection.name);
      if (match) reflection.name = `@nmkit/${match[1]}${match[2] ? `/${match[2]}` : ''}`;
    }
  });
}
