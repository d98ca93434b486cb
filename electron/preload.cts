/**
 * The only bridge between the window and the engine: `window.loupe`, exactly the WindowBridge
 * of main/api.ts. Sandboxed preload scripts are CommonJS, hence .cts.
 */
import electron = require('electron');
import type { EngineEvent, WindowBridge } from '../main/contract/api.js';

const bridge: WindowBridge = {
  call: (method, args) => electron.ipcRenderer.invoke('loupe:call', method, args),
  onEvent: (listener) => {
    const handler = (_e: unknown, event: EngineEvent): void => listener(event);
    electron.ipcRenderer.on('loupe:event', handler);
    return () => {
      electron.ipcRenderer.removeListener('loupe:event', handler);
    };
  },
  mediaBase: 'loupe://media/',
  pickFolder: () => electron.ipcRenderer.invoke('loupe:pick-folder') as Promise<string | null>,
};

electron.contextBridge.exposeInMainWorld('loupe', bridge);
