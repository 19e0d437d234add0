/**
 * The LAN mode's menu on a real terminal (tmux), in seed 001's words: the menu's four entries as
 * the seed writes them, the "Votre message ?" prompt, a message sent from it heard by another
 * member, a message heard shown above the menu, and "3. Quitter" leaving.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LAN_MENU_CHOICES, LAN_MESSAGE_PROMPT } from '../../peer/lan/menu.ts';
import { killAll } from '../helpers/cli.ts';
import { makeTempDir, removeTempDirs } from '../helpers/files.ts';
import { hasTmux, Terminals } from '../helpers/tmux.ts';
import { waitUntil } from '../helpers/wait.ts';
import { randomGroup, startMember } from './lan-group.ts';

const terminals = new Terminals('lan');

afterEach(killAll);
afterAll(async () => {
  await terminals.close();
  await removeTempDirs();
});

describe.runIf(hasTmux)('the LAN menu on a real terminal', () => {
  it('speaks the seed: its menu, "Votre message ?", and Quitter', async () => {
    expect(LAN_MENU_CHOICES.slice(0, 4).map((choice) => choice.name)).toEqual([
      '1. Emettre un message au groupe de discussion',
      '2. Récupérer un fichier',
      '3. Quitter',
      '4. Offrir un fichier aux membres du groupe (en définissant un mot de passe)',
    ]);
    const group = await randomGroup();
    const other = await startMember(group);
    const dir = await makeTempDir();
    await terminals.open(
      'm',
      'peer',
      ['lan', '--group', group.text, '--iface', '127.0.0.1', '--dir', dir],
      dir,
    );
    const menu = [
      '? napshare lan',
      `❯ ${LAN_MENU_CHOICES[0].name}`,
      ...LAN_MENU_CHOICES.slice(1).map((choice) => `  ${choice.name}`),
      '',
      '↑↓ navigate • ⏎ select',
    ];
    await terminals.until('m', '❯ 1. Emettre un message au groupe de discussion');
    const [ready] = await terminals.screen('m');
    expect(ready).toMatch(/^LAN member of /);
    await terminals.showsExactly('m', [ready as string, ...menu], 'the seed menu');

    // 1: the seed's prompt; what is typed reaches the group.
    await terminals.keys('m', 'Enter');
    await terminals.until('m', `? ${LAN_MESSAGE_PROMPT}`);
    await terminals.keys('m', '-l', 'coucou !');
    await terminals.keys('m', 'Enter');
    expect(await other.cli.waitFor('127.0.0.1 :> coucou !')).toBe('127.0.0.1 :> coucou !');

    // A message heard while the menu waits shows above it.
    other.cli.send('MSG salut');
    await terminals.showsExactly(
      'm',
      [ready as string, '127.0.0.1 :> salut', ...menu],
      'the message above the menu',
    );

    // 3: Quitter leaves; the lines stay.
    await terminals.keys('m', 'Down', 'Down', 'Enter');
    await waitUntil(
      async () =>
        (await terminals.tmux('list-panes', '-t', 'm', '-F', '#{pane_current_command}')).trim() === 'sleep',
      'the member leaves',
    );
    expect(await terminals.screen('m')).toEqual([ready, '127.0.0.1 :> salut']);
  });
});
