// The app's version, baked in at build time from package.json.
import pkg from '../../../package.json'

export const APP_VERSION: string = pkg.version
