import { describe, expect, it } from 'vitest';
import { ConfigError, envBool, envInt, parseEnv, z } from './index.js';

const schema = z.object({ PORT: envInt(80, { min: 1, max: 65535 }), DEBUG: envBool(false), NAME: z.string().min(1) });

describe('parseEnv', () => {
  it('applies defaults and converts types', () => {
    expect(parseEnv(schema, { NAME: 'x' })).toEqual({ PORT: 80, DEBUG: false, NAME: 'x' });
    expect(parseEnv(schema, { NAME: 'x', PORT: '8080', DEBUG: 'true' })).toEqual({ PORT: 8080, DEBUG: true, NAME: 'x' });
  });

  it('names every bad variable in one error', () => {
    let err: unknown;
    try {
      parseEnv(schema, { PORT: '0', DEBUG: 'maybe' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('PORT');
    expect(msg).toContain('DEBUG');
    expect(msg).toContain('NAME');
  });
});
