// Package commerce owns catalogs and their products: a catalog per
// business, products keyed by a retailer id unique in their catalog, prices
// in minor units of an ISO 4217 currency, the commerce settings of a
// business's phone numbers (catalog visible, cart enabled), and the bulk
// import and export of product feeds in the public commerce-feed format
// (CSV, TSV and RSS 2.0 XML); the orders people place, with their stock
// reserved (orders.go), their states, and their totals (subtotal + tax +
// shipping - discount, charges.go), which a business's payment requests and
// order news change (RequestPayment, ApplyOrderStatus); stock adjustments
// with reasons, the stock history, low-stock thresholds and their alert
// webhook (stock.go) and sales reports per day or product (sales.go).
//
// It never touches SQL, HTTP or the bus: Store is implemented by
// internal/store, and the Business API and the admin API call Service.
// Money never passes through a float: feed prices are parsed digit by
// digit with the currency's minor-unit exponent (currency.go).
package commerce
