import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_PUBLISHED_FILES, PublishedCatalog } from '../../peer/dht/published-catalog.ts';
import { makeTempDir, removeTempDirs } from '../helpers/files.ts';

afterAll(removeTempDirs);

describe('published catalog', () => {
  it('serves exactly the published paths, lists by keyword, forgets on clear', async () => {
    const dir = await makeTempDir();
    await fs.writeFile(path.join(dir, 'Aula 1 Redes.mp4'), 'abc');
    await fs.writeFile(path.join(dir, 'other.txt'), 'x');
    const catalog = new PublishedCatalog();
    catalog.add([{ name: 'Aula 1 Redes.mp4', path: path.join(dir, 'Aula 1 Redes.mp4') }]);
    expect(await catalog.find('Aula 1 Redes.mp4')).toMatchObject({ size: 3 });
    await expect(catalog.find('other.txt')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await catalog.list('REDES')).toEqual(['Aula 1 Redes.mp4']);
    expect(await catalog.list('aula 1 redes.mp4')).toEqual(['Aula 1 Redes.mp4']);
    expect(await catalog.list('red')).toEqual([]);
    expect(await catalog.list()).toEqual(['Aula 1 Redes.mp4']);
    expect(catalog.clear()).toBe(1);
    await expect(catalog.find('Aula 1 Redes.mp4')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('does not follow a published path that became a symbolic link', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'a.txt');
    await fs.writeFile(file, 'a');
    const catalog = new PublishedCatalog();
    catalog.add([{ name: 'a.txt', path: file }]);
    await fs.rm(file);
    await fs.symlink('/etc/hostname', file);
    await expect(catalog.find('a.txt')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('is bounded', () => {
    const catalog = new PublishedCatalog();
    const many = Array.from({ length: DEFAULT_MAX_PUBLISHED_FILES }, (_, i) => ({
      name: `f${i}`,
      path: `/x/f${i}`,
    }));
    catalog.add(many);
    expect(() => catalog.add([{ name: 'one-more', path: '/x/one' }])).toThrow(/At most/);
    // Re-publishing a name already there does not grow the table.
    catalog.add([{ name: 'f1', path: '/y/f1' }]);
    expect(catalog.size).toBe(DEFAULT_MAX_PUBLISHED_FILES);
  });

  it('takes another bound, and adds nothing of a publish it refuses', () => {
    const catalog = new PublishedCatalog(2);
    catalog.add([{ name: 'a', path: '/x/a' }]);
    expect(() =>
      catalog.add([
        { name: 'b', path: '/x/b' },
        { name: 'c', path: '/x/c' },
      ]),
    ).toThrow('At most 2 files can be published at once (--max-files); 1 already are.');
    expect(() => catalog.add([{ name: '../etc', path: '/x/etc' }])).toThrow(
      expect.objectContaining({ code: 'UNSAFE_NAME' }),
    );
    expect(catalog.names()).toEqual(['a']);
    const other = new PublishedCatalog();
    expect(() =>
      other.add([
        { name: 'b', path: '/x/b' },
        { name: '../etc', path: '/x/etc' },
      ]),
    ).toThrow(expect.objectContaining({ code: 'UNSAFE_NAME' }));
    expect(other.size).toBe(0);
  });
});
