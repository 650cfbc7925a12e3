// The options `train` and `bench --quality` share: a recipe, and single settings on top of it.
// The override flags are not written here: each is drawn from its override's schema and metadata
// (RecipeOverridesSchema in lib/train/recipes.ts).

import { overrideField, recipeNames, RecipeOverridesSchema, type RecipeName, type RecipeOverrideName, type RecipeOverrides } from '../train/recipes';
import { PRECISIONS, type Precision } from '../engine/native/precision';
import { choice, optionFromSchema, parseValue, type OptionDecl, type Values } from './options';

const FLAGS = (Object.keys(RecipeOverridesSchema.shape) as RecipeOverrideName[]).flatMap((key) => {
  const { schema, meta } = overrideField(key);
  return meta.flag ? [{ key, flag: meta.flag, option: optionFromSchema(schema, meta.arg ?? 'X', meta.description) }] : [];
});

/** --lr, --beta1, --batch, --crop, --size, --ssim, --mask-weighted, --mask, --schedule. */
export const RECIPE_OPTIONS: Record<string, OptionDecl> = Object.fromEntries(FLAGS.map((f) => [f.flag, f.option]));

/** --precision for train and bench --quality: absent, a continued run keeps its checkpoint's. */
export const PRECISION_OPTION = choice(PRECISIONS, 'convolutions in fp32, or bf16 with fp32 accumulation (native backend)');

/** A recipe name, or a UsageError listing the known ones. */
export function recipeOption(name: string): RecipeName {
  return parseValue('recipe', choice(recipeNames(), 'recipe'), name) as RecipeName;
}

/**
 * The override flags given (absent ones stay undefined: the recipe decides). The values were
 * checked against these same declarations (lib/commands/options.ts checkValues); a flag that is
 * false was not given.
 */
export function recipeOverrides(values: Values): RecipeOverrides {
  const given = FLAGS.flatMap(({ key, flag }) => (values[flag] === undefined || values[flag] === false ? [] : [[key, values[flag]]]));
  return RecipeOverridesSchema.parse(Object.fromEntries(given));
}

export type { Precision };
