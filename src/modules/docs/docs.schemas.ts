import Joi from 'joi';

/** The Swagger UI files /docs serves, with their content types. */
export const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
};

/** GET /docs/:file: one of the Swagger UI files. */
export const assetFileParams = Joi.object({
  file: Joi.string()
    .valid(...Object.keys(ASSETS))
    .required(),
});

/** The OpenAPI document (an object; its own shape is the OpenAPI 3.1 specification's). */
export const openApiOut = Joi.object().unknown(true);
