// The todo workload as a module the server's document workers load (they cannot be handed functions).
export { todoReducers as reducers } from './setup.js';
